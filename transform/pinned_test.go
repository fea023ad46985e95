package transform

// Known answers under testKey(t, 1). They pin the wire formats: a change
// here breaks every stored hash and outstanding token, so it must be
// deliberate.
const (
	pinnedHash = "a931564b5fd35e8f" // hash of EMAIL_ADDRESS "jane@acme.test"
	// stateless token of EMAIL_ADDRESS "jane.doe@acme.test"
	pinnedToken = "[[EMAIL_ADDRESS:GWF6DTAM73SA17ABAX5J5H5MC7E5BTJPS3DGR35GNHV2JPWYRNT1XSGA]]"
)

var syntheticGolden = []struct{ typ, in, want string }{
	{"CREDIT_CARD", "4111 1111 1111 1111", "4000 0050 5571 3482"},
	{"US_SSN", "123-45-6789", "850-51-2765"},
	{"EMAIL_ADDRESS", "jane.doe@acme.test", "riley.carver65@example.net"},
	{"PHONE_NUMBER", "+1 (415) 555-2671", "+1 (244) 555-0166"},
	{"IBAN_CODE", "GB82 WEST 1234 5698 7654 32", "GB10 UHKS 9196 0180 6427 92"},
	{"IP_ADDRESS", "10.1.2.3", "203.0.113.76"},
	{"IP_ADDRESS", "2606:4700::1111", "2001:db8:a1e5:9dc6:abe5:3ebc:f49a:c6b1"},
	{"PERSON", "Jane Doe", "Avery Vance"},
	{"UK_NHS", "943 476 5919", "999 876 5366"},
	{"ABA_ROUTING_NUMBER", "011000015", "089764752"},
	{"US_ITIN", "912-70-1234", "951-92-2015"},
	{"MAC_ADDRESS", "3c:22:fb:12:34:56", "00:00:5e:00:53:16"},
	{"URL", "https://intranet.acme.test/x", "https://example.org/bellamy02"},
}
