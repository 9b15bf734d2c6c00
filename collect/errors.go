package collect

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// explain says in the user's terms what an AWS error means for the
// action on resource (an IAM action, as a policy would name it).
func explain(err error, action, resource string) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("%s on %s: %w", action, resource, err)
	}
	switch api.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden":
		return fmt.Errorf("AccessDenied on %s for %s: the credentials' policy does not allow it (%s)", action, resource, api.ErrorMessage())
	case "NoSuchBucket":
		return fmt.Errorf("bucket of %s does not exist (or is in another partition): %s", resource, api.ErrorMessage())
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId":
		return fmt.Errorf("the credentials were refused (%s: %s): check AWS_PROFILE, or run aws sso login", api.ErrorCode(), api.ErrorMessage())
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return fmt.Errorf("the credentials have expired (%s): run aws sso login, or renew the session", api.ErrorCode())
	case "ResourceNotFoundException":
		return fmt.Errorf("%s: %s not found: %s", action, resource, api.ErrorMessage())
	}
	return fmt.Errorf("%s on %s: %w", action, resource, err)
}
