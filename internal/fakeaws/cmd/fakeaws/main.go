// Command fakeaws serves internal/fakeaws on a fixed address, with folders
// uploaded into buckets, to run `l4case collect` by hand against it:
//
//	go run ./internal/fakeaws/cmd/fakeaws -addr 127.0.0.1:9000 -put flow-logs=BUNDLE/flowlogs -put elb-logs=BUNDLE/elb
//
// then, with the environment it prints, l4case collect ... --endpoint-url http://127.0.0.1:9000.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"dev.l4case/l4case/internal/fakeaws"
)

type puts []string

func (p *puts) String() string     { return strings.Join(*p, ",") }
func (p *puts) Set(s string) error { *p = append(*p, s); return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	recorded := flag.String("recorded", "testdata/aws", "the recorded EC2 and CloudWatch Logs responses")
	var ps puts
	flag.Var(&ps, "put", "BUCKET=DIR: upload DIR's files as the bucket's objects (repeatable)")
	flag.Parse()
	srv := fakeaws.New(*recorded)
	srv.Close() // its own listener; serve on addr instead
	for _, p := range ps {
		bucket, dir, ok := strings.Cut(p, "=")
		if !ok {
			log.Fatalf("-put %q: want BUCKET=DIR", p)
		}
		n := 0
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			n++
			return srv.Put(bucket, filepath.ToSlash(rel), body)
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "s3://%s: %d objects from %s\n", bucket, n, dir)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "serving http://%s; use:\n", *addr)
	for _, kv := range srv.Env(os.TempDir()) {
		fmt.Printf("export %s\n", kv)
	}
	log.Fatal(http.Serve(ln, srv.Config.Handler))
}
