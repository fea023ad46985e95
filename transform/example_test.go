package transform_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/transform"
)

func Example() {
	key, err := transform.NewKey([]byte("an example key of 32 bytes or so"))
	if err != nil {
		panic(err)
	}
	d, err := transform.NewDeidentifier(transform.Config{
		Operators:  map[string]transform.Operator{"EMAIL_ADDRESS": transform.Tokenize},
		Categories: map[detect.Category]transform.Operator{detect.Financial: transform.Mask},
		Key:        key,
	})
	if err != nil {
		panic(err)
	}
	prompt := "Refund card 4111 1111 1111 1111 and email jane@acme.test."
	findings := []detect.Finding{
		{Type: "CREDIT_CARD", Category: detect.Financial, Start: 12, End: 31},
		{Type: "EMAIL_ADDRESS", Category: detect.PII, Start: 42, End: 56},
	}
	ctx := context.Background()
	safe, stats, err := d.Apply(ctx, prompt, findings)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(safe, "Refund card **** **** **** 1111 and email [[EMAIL_ADDRESS:"), stats.Total())

	// The model answers with the token; restore it for the caller.
	tokens, err := transform.NewStatelessTokens(key)
	if err != nil {
		panic(err)
	}
	tok := transform.FindTokens(safe)[0]
	reply := "Sure, I will write to **" + safe[tok.Start:tok.End] + "** today."
	out, _, err := transform.Restore(ctx, reply, tokens)
	if err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// true 2
	// Sure, I will write to **jane@acme.test** today.
}
