// Package transform de-identifies the sensitive spans detect finds and puts
// tokens back into text on the way out.
//
// It sits between policy and route on Warden's request path: once policy
// has decided that a request is to be de-identified, a Deidentifier rewrites
// each detect.Finding with the operator configured for its type or category:
//
//	redact       remove the span
//	placeholder  <EMAIL_ADDRESS>
//	mask         ************1111 (keep the last N characters)
//	hash         <EMAIL_ADDRESS:hmac:9f86d081884c7d65> (keyed, truncated HMAC-SHA256)
//	tokenize     [[EMAIL_ADDRESS:…]] (reversible through a Tokenizer/Revealer)
//	synthetic    alex.morgan17@example.com (a format-valid fake derived from the value)
//
// On the response path Restore finds tokens in the model's output and asks a
// Revealer for the originals. Without a vault, StatelessTokens is both: its
// tokens carry a deterministic authenticated encryption of the value, so
// anyone holding the key can restore them and nobody else can.
//
// The token wire format is documented in token.go. Key material is held in
// Key, which never prints.
package transform
