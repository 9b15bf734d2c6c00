package app

import "dev.l4case/l4case/query"

// AthenaSources say where an account's logs are, for AthenaDDL.
type AthenaSources = query.AthenaSources

// AthenaDDL is the statements that make the logs in S3 queryable in
// Athena under the case's table names.
func AthenaDDL(s AthenaSources) ([]string, error) { return query.AthenaDDL(s) }

// AthenaView is a saved view's SQL for Athena with its parameters, or why
// the view runs in the case only.
func AthenaView(name string, args map[string]string) (string, error) {
	v, err := query.LookupView(name)
	if err != nil {
		return "", err
	}
	return v.AthenaForm(args)
}

// AthenaViews lists the saved views that run on Athena, and why each other
// one does not.
func AthenaViews() (portable []string, not map[string]string) {
	not = map[string]string{}
	for _, v := range query.Views() {
		if _, err := v.AthenaForm(nil); err != nil {
			not[v.Name] = err.Error()
		} else {
			portable = append(portable, v.Name)
		}
	}
	return portable, not
}
