package modelguard_test

import (
	"context"
	"fmt"

	"github.com/wardenhq/warden/modelguard"
)

func ExampleScanner_ScanFile() {
	s, err := modelguard.New(modelguard.Config{})
	if err != nil {
		panic(err)
	}
	r, err := s.ScanFile(context.Background(), "testdata/torch_evil.pt")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Format, r.Verdict)
	for _, f := range r.Findings {
		fmt.Println(f.Severity, f.Rule, f.Member, f.Callable)
	}
	// Output:
	// zip dangerous
	// critical pickle.import archive/data.pkl posix.system
}
