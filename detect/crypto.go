package detect

import (
	"crypto/sha256"
	"strings"

	"golang.org/x/crypto/sha3"
)

// CRYPTO findings: cryptocurrency wallet addresses.
//
//   - Base58Check (Bitcoin P2PKH "1…" and P2SH "3…", Litecoin "L…" and
//     "M…", XRP "r…" in the Ripple alphabet; not the testnet "m…", "n…",
//     "2…" forms, whose triggers would wake on every word starting with
//     m or n for worthless test coins): the
//     string decodes to 25 bytes, version byte + 20-byte hash + the first
//     four bytes of SHA-256(SHA-256(version + hash)).
//   - Bech32 / Bech32m segwit (BIP-173, BIP-350; "bc1", "tb1", "ltc1"):
//     BCH checksum over the human-readable part and data, witness version
//     0 with Bech32 and a 20 or 32-byte program, versions 1-16 with Bech32m
//     and a 2-40 byte program.
//   - Ethereum "0x" + 40 hex digits: a mixed-case address must carry a
//     valid EIP-55 checksum (Keccak-256 of the lower-case hex); an
//     all-lower or all-upper one has no checksum and needs a context word.
//
// Strings with the shape of a Bitcoin address whose checksum fails (typos,
// made-up sample data) are reported only with a context word such as
// "bitcoin" or "wallet", at a low score; without one a near miss is not
// a finding. A shape that no address can have is never reported: longer
// than 34 characters (25 bytes of a mainnet version never need more), or
// a valid address with one character glued on.
//
// The base58 and bech32 decoders are written here rather than imported:
// they are a few dozen lines each, run without allocating on every
// candidate, and no package on the project's approved list provides them.

// Scores for CRYPTO findings.
const (
	scoreCryptoChecked = 0.95 // checksum verified
	scoreCryptoShape   = 0.3  // address shape, checksum fails: context needed
	scoreEthNoChecksum = 0.45 // 0x + 40 hex in one case: context needed
	cryptoContextBoost = 0.25 // shape only + context: 0.55, just past the default threshold
	ethContextBoost    = 0.4
	base58AddrBytes    = 25
	minBase58Addr      = 25
	minBase58Shape     = 26
	maxBase58Shape     = 34 // 25 bytes of version 0x00, 0x05, 0x30 or 0x32 never take more base58 digits
	maxBase58Addr      = 35
	maxBech32          = 90
	bech32ChecksumLen  = 6
	bech32Const        = 1
	bech32mConst       = 0x2bc830a3
	ethAddrHex         = 40
	minBech32Shape     = 26 // shorter "bc1…" words are not taken for addresses without a checksum
	maxBech32Shape     = 74
)

const (
	btcAlphabet    = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	xrpAlphabet    = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
	bech32Alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	base58Leads    = "13LM" // leading characters of Bitcoin and Litecoin mainnet base58 addresses
	xrpLead        = 'r'
	cryptoRecName  = "crypto"
	cryptoTypeName = "CRYPTO"
)

var (
	// cryptoContext lifts shape-only addresses; the shape is specific
	// enough that payment verbs count as context too.
	cryptoContext = []string{"btc", "bitcoin", "wallet", "crypto", "coin", "satoshi", "sats", "ltc", "litecoin", "xrp", "ripple", "segwit", "taproot",
		"address", "addr", "send", "pay", "transfer", "deposit", "receive", "withdraw", "donate", "refund", "payout", "fund"}
	ethContext = []string{"eth", "wallet", "address", "addr", "erc20", "erc-20", "erc721", "metamask", "contract", "token", "usdt", "usdc", "polygon", "arbitrum", "web3",
		"crypto", "send", "pay", "transfer", "deposit", "receive", "withdraw", "refund", "payout", "fund"}
)

// base58Table maps a byte to its digit value in one base58 alphabet, or
// 0xff for bytes outside it.
type base58Table [256]byte

func newBase58Table(alphabet string) *base58Table {
	var t base58Table
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return &t
}

// base58Decode decodes s into dst and reports whether s encodes exactly
// len(dst) bytes (at most 40). As in Bitcoin's encoding, each leading zero
// byte is one leading zero digit (the alphabet's first character) and the
// rest is the big-endian number in base 58. The number is accumulated in
// 32-bit limbs, five digits at a time (58^5 < 2^32).
func base58Decode(dst []byte, s string, tab *base58Table) bool {
	const maxLimbs = 10
	nl := (len(dst) + 3) / 4
	if nl > maxLimbs {
		return false
	}
	var limbs [maxLimbs]uint32 // least significant first
	for i := 0; i < len(s); {
		mul, add := uint64(1), uint64(0)
		for k := 0; k < 5 && i < len(s); k, i = k+1, i+1 {
			v := tab[s[i]]
			if v == 0xff {
				return false
			}
			mul *= 58
			add = add*58 + uint64(v)
		}
		carry := add
		for j := 0; j < nl; j++ {
			x := uint64(limbs[j])*mul + carry
			limbs[j] = uint32(x)
			carry = x >> 32
		}
		if carry != 0 {
			return false // more than len(dst) bytes
		}
	}
	byteAt := func(j int) byte { return byte(limbs[j/4] >> (8 * (j % 4))) }
	for j := len(dst); j < nl*4; j++ {
		if byteAt(j) != 0 {
			return false
		}
	}
	for j := 0; j < len(dst); j++ {
		dst[len(dst)-1-j] = byteAt(j)
	}
	zeros := 0
	for zeros < len(s) && tab[s[zeros]] == 0 {
		zeros++
	}
	lead := 0
	for lead < len(dst) && dst[lead] == 0 {
		lead++
	}
	return lead == zeros
}

// base58Check decodes a 25-byte Base58Check address and verifies its
// checksum; it returns the version byte.
func base58Check(s string, tab *base58Table) (version byte, ok bool) {
	var b [base58AddrBytes]byte
	if !base58Decode(b[:], s, tab) {
		return 0, false
	}
	h := sha256.Sum256(b[:21])
	h = sha256.Sum256(h[:])
	if h[0] != b[21] || h[1] != b[22] || h[2] != b[23] || h[3] != b[24] {
		return 0, false
	}
	return b[0], true
}

// bech32Step feeds one 5-bit value into the BIP-173 BCH checksum.
func bech32Step(chk uint32, v byte) uint32 {
	b := chk >> 25
	chk = (chk&0x1ffffff)<<5 ^ uint32(v)
	if b&1 != 0 {
		chk ^= 0x3b6a57b2
	}
	if b&2 != 0 {
		chk ^= 0x26508e6d
	}
	if b&4 != 0 {
		chk ^= 0x1ea119fa
	}
	if b&8 != 0 {
		chk ^= 0x3d4233dd
	}
	if b&16 != 0 {
		chk ^= 0x2a1462b3
	}
	return chk
}

// bech32Values maps a byte to its 5-bit value in the bech32 charset (both
// cases), or 0xff.
type bech32Values [256]byte

func newBech32Values() *bech32Values {
	var t bech32Values
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(bech32Alphabet); i++ {
		c := bech32Alphabet[i]
		t[c] = byte(i)
		if isLower(c) {
			t[c-32] = byte(i)
		}
	}
	return &t
}

// bech32Verify checks s against the BIP-173 string rules (at most 90
// characters, human-readable part of 1-83 characters in 33-126, a single
// case, the last '1' as separator, at least six data characters from the
// charset) and returns the separator offset and the checksum constant
// the string satisfies: bech32Const, bech32mConst, or 0 when invalid.
func bech32Verify(s string, vals *bech32Values) (sep int, spec uint32) {
	if len(s) < 8 || len(s) > maxBech32 {
		return -1, 0
	}
	hasLower, hasUpper := false, false
	sep = -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			return -1, 0
		}
		hasLower = hasLower || isLower(c)
		hasUpper = hasUpper || isUpper(c)
		if c == '1' {
			sep = i
		}
	}
	if hasLower && hasUpper || sep < 1 || len(s)-sep-1 < bech32ChecksumLen {
		return -1, 0
	}
	chk := uint32(1)
	for i := 0; i < sep; i++ {
		chk = bech32Step(chk, lower[s[i]]>>5)
	}
	chk = bech32Step(chk, 0)
	for i := 0; i < sep; i++ {
		chk = bech32Step(chk, lower[s[i]]&31)
	}
	for i := sep + 1; i < len(s); i++ {
		v := vals[s[i]]
		if v == 0xff {
			return -1, 0
		}
		chk = bech32Step(chk, v)
	}
	switch chk {
	case bech32Const, bech32mConst:
		return sep, chk
	}
	return -1, 0
}

// segwitValid checks a segwit address (BIP-173 as amended by BIP-350):
// a valid bech32 string with human-readable part hrp (lower case), a
// witness version 0-16 whose checksum constant matches it, and a witness
// program of 2-40 bytes (20 or 32 for version 0) with zero padding of at
// most four bits.
func segwitValid(s, hrp string, vals *bech32Values) bool {
	sep, spec := bech32Verify(s, vals)
	if sep != len(hrp) || !hasPrefixAt(s, 0, hrp, true) {
		return false
	}
	data := s[sep+1 : len(s)-bech32ChecksumLen]
	if len(data) < 1 {
		return false
	}
	ver := vals[data[0]]
	if ver > 16 || (ver == 0) != (spec == bech32Const) {
		return false
	}
	acc, bits, n := uint32(0), uint(0), 0
	for i := 1; i < len(data); i++ {
		acc = acc<<5 | uint32(vals[data[i]])
		bits += 5
		if bits >= 8 {
			bits -= 8
			n++
		}
	}
	if bits >= 5 || acc&(1<<bits-1) != 0 {
		return false
	}
	if n < 2 || n > 40 {
		return false
	}
	return ver != 0 || n == 20 || n == 32
}

// eip55Valid checks the EIP-55 mixed-case checksum of the 40 hex digits
// h: a letter is upper case exactly when the matching nibble of
// Keccak-256(lower-case h) is 8 or more.
func eip55Valid(h string) bool {
	var low [ethAddrHex]byte
	for i := 0; i < ethAddrHex; i++ {
		low[i] = lower[h[i]]
	}
	k := sha3.NewLegacyKeccak256()
	k.Write(low[:])
	var sum [32]byte
	k.Sum(sum[:0])
	for i := 0; i < ethAddrHex; i++ {
		c := h[i]
		if isDigit(c) {
			continue
		}
		nib := sum[i/2] >> 4
		if i%2 == 1 {
			nib = sum[i/2] & 0xf
		}
		if (nib >= 8) != isUpper(c) {
			return false
		}
	}
	return true
}

// cryptoRecognizer finds wallet addresses; see the comment at the top of
// this file.
type cryptoRecognizer struct {
	btc, xrp *base58Table
	bech32   *bech32Values
}

func newCryptoRecognizer() *cryptoRecognizer {
	return &cryptoRecognizer{btc: newBase58Table(btcAlphabet), xrp: newBase58Table(xrpAlphabet), bech32: newBech32Values()}
}

func (*cryptoRecognizer) Name() string    { return cryptoRecName }
func (*cryptoRecognizer) Types() []string { return []string{cryptoTypeName} }

// Triggers registers "0x", the segwit prefixes and, for base58, every
// two-byte start an address can have (a leading character and one more
// alphabet character): the prefix index makes these cost one table load
// per word start.
func (*cryptoRecognizer) Triggers() []Trigger {
	ts := []Trigger{
		{Kind: TriggerPrefix, Prefix: "0x", Fold: true},
		{Kind: TriggerPrefix, Prefix: "bc1", Fold: true},
		{Kind: TriggerPrefix, Prefix: "tb1", Fold: true},
		{Kind: TriggerPrefix, Prefix: "ltc1", Fold: true},
	}
	// Exact-case entries: a folded one would wake Find on every word that
	// starts with "l", "m" or "R" as well.
	for i := 0; i < len(base58Leads); i++ {
		for j := 0; j < len(btcAlphabet); j++ {
			ts = append(ts, Trigger{Kind: TriggerPrefix, Prefix: string([]byte{base58Leads[i], btcAlphabet[j]})})
		}
	}
	for j := 0; j < len(xrpAlphabet); j++ {
		ts = append(ts, Trigger{Kind: TriggerPrefix, Prefix: string([]byte{xrpLead, xrpAlphabet[j]})})
	}
	return ts
}

func (r *cryptoRecognizer) Find(s *Scan, at int) {
	t := s.text
	// Every form is one alphanumeric word; measure it once.
	end := at
	for end < len(t) && end-at <= maxBech32 && isAlnum(t[end]) {
		end++
	}
	if end-at > maxBech32 || (end < len(t) && (t[end] >= 0x80 || t[end] == '_')) {
		return
	}
	w := t[at:end]
	switch {
	case len(w) >= 2 && w[0] == '0' && lower[w[1]] == 'x':
		r.findEth(s, at, end)
	case hasPrefixAt(w, 0, "bc1", true) || hasPrefixAt(w, 0, "tb1", true) || hasPrefixAt(w, 0, "ltc1", true):
		r.findSegwit(s, at, end)
	case w[0] == xrpLead || strings.IndexByte(base58Leads, w[0]) >= 0:
		// Only the exact-case base58 triggers lead here.
		r.findBase58(s, at, end)
	}
}

func (r *cryptoRecognizer) report(s *Scan, start, end int, base, boost float64, ctxWords []string) {
	addID(s, idHit{typ: cryptoTypeName, rec: cryptoRecName, cat: Financial, start: start, end: end,
		base: base, boost: boost, words: ctxWords})
}

func (r *cryptoRecognizer) findBase58(s *Scan, at, end int) {
	w := s.text[at:end]
	if len(w) < minBase58Addr || len(w) > maxBase58Addr {
		return
	}
	tab := r.btc
	if w[0] == xrpLead {
		tab = r.xrp
	}
	ver, ok := base58Check(w, tab)
	if ok {
		if tab == r.xrp {
			ok = ver == 0x00
		} else {
			switch ver {
			case 0x00, 0x05, 0x30, 0x32: // BTC P2PKH, P2SH; LTC P2PKH, P2SH
			default:
				ok = false
			}
		}
	}
	if ok {
		r.report(s, at, end, scoreCryptoChecked, 0, nil)
		return
	}
	// Shape only: a mainnet Bitcoin or Litecoin lead, 26-35 alphabet
	// characters with digits, upper and lower case letters (what an
	// address looks like).
	if tab != r.btc || len(w) < minBase58Shape || len(w) > maxBase58Shape {
		return
	}
	// A valid address with a character glued on ("…BoyZ2") is a broken
	// copy, not an address of its own.
	if _, ok := base58Check(w[:len(w)-1], tab); ok {
		return
	}
	var d, u, l bool
	for i := 1; i < len(w); i++ {
		c := w[i]
		if tab[c] == 0xff {
			return
		}
		d = d || isDigit(c)
		u = u || isUpper(c)
		l = l || isLower(c)
	}
	if d && u && l {
		r.report(s, at, end, scoreCryptoShape, cryptoContextBoost, cryptoContext)
	}
}

func (r *cryptoRecognizer) findSegwit(s *Scan, at, end int) {
	w := s.text[at:end]
	hrp := "bc"
	switch lower[w[0]] {
	case 't':
		hrp = "tb"
	case 'l':
		hrp = "ltc"
	}
	if segwitValid(w, hrp, r.bech32) {
		r.report(s, at, end, scoreCryptoChecked, 0, nil)
		return
	}
	// Shape only: mainnet "bc1", one case, charset characters, a
	// plausible length (P2WPKH is 42, P2TR 62).
	if hrp != "bc" || len(w) < minBech32Shape || len(w) > maxBech32Shape {
		return
	}
	var hasLower, hasUpper bool
	for i := 3; i < len(w); i++ {
		c := w[i]
		if r.bech32[c] == 0xff {
			return
		}
		hasLower = hasLower || isLower(c)
		hasUpper = hasUpper || isUpper(c)
	}
	if hasLower && hasUpper {
		return
	}
	r.report(s, at, end, scoreCryptoShape, cryptoContextBoost, cryptoContext)
}

func (r *cryptoRecognizer) findEth(s *Scan, at, end int) {
	if end-at != 2+ethAddrHex {
		return
	}
	h := s.text[at+2 : end]
	var u, l bool
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !isHex(c) {
			return
		}
		u = u || isUpper(c)
		l = l || isLower(c)
	}
	if u && l {
		if eip55Valid(h) {
			r.report(s, at, end, scoreCryptoChecked, 0, nil)
		}
		return
	}
	r.report(s, at, end, scoreEthNoChecksum, ethContextBoost, ethContext)
}
