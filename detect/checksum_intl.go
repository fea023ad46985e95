package detect

// Check-digit algorithms of national identifiers, each from its published
// standard. Inputs are ASCII strings whose shape the caller has checked
// (the right length, digits where digits belong); none allocates.

// digit returns the value of the ASCII digit at d[i].
func digit(d string, i int) int { return int(d[i] - '0') }

// weighted returns the sum of the digits of d times w, position by
// position (len(w) <= len(d)).
func weighted(d string, w []int) int {
	sum := 0
	for i, x := range w {
		sum += digit(d, i) * x
	}
	return sum
}

// verhoeffD and verhoeffP are the dihedral group D5 multiplication table
// and the position permutation of the Verhoeff check (J. Verhoeff, "Error
// Detecting Decimal Codes", 1969), used by Aadhaar (UIDAI).
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 8, 1, 0, 2, 7, 6, 3},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

// verhoeff reports whether the digit string d, check digit last, passes
// the Verhoeff check: c = 0; for each digit from the right, at position
// i, c = d(c, p(i mod 8, digit)); valid when c = 0.
func verhoeff(d string) bool {
	c := byte(0)
	for i := 0; i < len(d); i++ {
		c = verhoeffD[c][verhoeffP[i%8][d[len(d)-1-i]-'0']]
	}
	return c == 0
}

// iso7064Mod11_10 reports whether d passes ISO/IEC 7064 MOD 11,10 (the
// hybrid system used by the German Steuerliche Identifikationsnummer,
// § 139b AO): p = 10; for each digit s = (p + digit) mod 10, s = 10 if 0,
// p = 2s mod 11; valid when (p + check) mod 10 = 1.
func iso7064Mod11_10(d string) bool {
	p := 10
	for i := 0; i < len(d)-1; i++ {
		s := (p + digit(d, i)) % 10
		if s == 0 {
			s = 10
		}
		p = 2 * s % 11
	}
	return (p+digit(d, len(d)-1))%10 == 1
}

// icaoValue is the value of a character in an ICAO 9303 check (Doc 9303
// part 3, 4.9): digits are themselves, A-Z are 10-35, '<' is 0.
func icaoValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case isUpper(c):
		return int(c-'A') + 10
	case isLower(c):
		return int(c-'a') + 10
	}
	return 0
}

// icao9303 reports whether the last character of s (a digit) is the ICAO
// 9303 check digit of the rest: weights 7, 3, 1 repeated, sum mod 10.
// The machine readable zone of German identity cards prints it after the
// serial number.
func icao9303(s string) bool {
	w := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s)-1; i++ {
		sum += icaoValue(s[i]) * w[i%3]
	}
	return isDigit(s[len(s)-1]) && sum%10 == digit(s, len(s)-1)
}

// validDate reports whether year y, month m, day d is a calendar date
// (Gregorian leap years).
func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// two returns the two-digit number at d[i:i+2].
func two(d string, i int) int { return digit(d, i)*10 + digit(d, i+1) }

// caSIN checks a Canadian Social Insurance Number (Employment and Social
// Development Canada): nine digits passing Luhn, the first not 0 (never
// issued) or 8 (business numbers).
func caSIN(d string) bool {
	return d[0] != '0' && d[0] != '8' && luhn(d) && !sameDigits(d)
}

// sameDigits reports whether every digit of d is the same.
func sameDigits(d string) bool {
	for i := 1; i < len(d); i++ {
		if d[i] != d[0] {
			return false
		}
	}
	return true
}

// auTFN checks an Australian Tax File Number (ATO): nine digits, weights
// 1, 4, 3, 7, 5, 8, 6, 9, 10, sum divisible by 11.
func auTFN(d string) bool {
	return weighted(d, []int{1, 4, 3, 7, 5, 8, 6, 9, 10})%11 == 0 && !sameDigits(d)
}

// nlBSN checks a Dutch Burgerservicenummer (the "elfproef" of the Wet
// algemene bepalingen burgerservicenummer): nine digits, weights 9..2 and
// -1 on the last, sum divisible by 11 and not 0.
func nlBSN(d string) bool {
	s := weighted(d, []int{9, 8, 7, 6, 5, 4, 3, 2}) - digit(d, 8)
	return s != 0 && s%11 == 0 && !sameDigits(d)
}

// auABN checks an Australian Business Number (ABR): subtract 1 from the
// first of eleven digits, weights 10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19,
// sum divisible by 89.
func auABN(d string) bool {
	if d[0] == '0' {
		return false
	}
	s := weighted(d, []int{10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19}) - 10
	return s%89 == 0
}

// auMedicare checks an Australian Medicare card number (Services
// Australia): ten digits (an eleventh, the issue number, may follow), the
// first 2-6, the ninth the sum of the first eight times 1, 3, 7, 9, 1, 3,
// 7, 9 mod 10.
func auMedicare(d string) bool {
	return d[0] >= '2' && d[0] <= '6' && weighted(d, []int{1, 3, 7, 9, 1, 3, 7, 9})%10 == digit(d, 8)
}

// usNPI checks a US National Provider Identifier (45 CFR 162.406; CMS
// "NPI check digit"): ten digits, the first 1 or 2, passing Luhn with the
// card issuer prefix 80840 in front. Nine equal digits and a check digit
// are a placeholder, not an identifier.
func usNPI(d string) bool {
	if (d[0] != '1' && d[0] != '2') || sameDigits(d[:9]) {
		return false
	}
	// Luhn of "80840"+d without the copy: the prefix's digits, from the
	// right 0, 4 doubled, 8, 0 doubled, 8, add 0+8+8+0+8 = 24.
	sum := 24
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := digit(d, i)
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// inAadhaar checks an Aadhaar number (UIDAI): twelve digits, the first
// 2-9, Verhoeff check digit last.
func inAadhaar(d string) bool {
	return d[0] >= '2' && verhoeff(d) && !sameDigits(d)
}

// deTaxID checks a German tax identification number (§ 139b AO, BZSt):
// eleven digits, the first not 0, ISO 7064 MOD 11,10 check digit last
// (check). The BZSt also issues them so that in the first ten exactly one
// digit occurs twice or three times (three not in a row) and the others
// once or not at all (rule); a number that passes the check but not the
// rule is a made-up example more often than an identifier.
func deTaxID(d string) (check, rule bool) {
	if d[0] == '0' || !iso7064Mod11_10(d) {
		return false, false
	}
	return true, deTaxRule(d)
}

// deTaxRule is the BZSt's digit distribution rule of deTaxID.
func deTaxRule(d string) bool {
	var n [10]int
	for i := 0; i < 10; i++ {
		n[d[i]-'0']++
	}
	multi := -1
	for v, c := range n {
		switch {
		case c > 3:
			return false
		case c > 1:
			if multi >= 0 {
				return false
			}
			multi = v
		}
	}
	if multi < 0 {
		return false
	}
	if n[multi] == 3 {
		for i := 0; i+2 < 10; i++ {
			if d[i] == d[i+1] && d[i+1] == d[i+2] {
				return false
			}
		}
	}
	return true
}

// plPESEL checks a Polish PESEL (Ustawa o ewidencji ludności): eleven
// digits YYMMDDZZZXQ, the month plus 0 (1900s) or 20 (2000s) giving a
// valid date, and Q = (10 - sum mod 10) mod 10 with weights 1, 3, 7, 9,
// 1, 3, 7, 9, 1, 3. The law's other centuries (month + 80 for the 1800s,
// + 40, + 60 for 2100-2299) hold no living person, so are refused.
func plPESEL(d string) bool {
	y, m, day := two(d, 0), two(d, 2), two(d, 4)
	switch {
	case m > 20 && m <= 32:
		y, m = 2000+y, m-20
		if y > 2039 {
			return false
		}
	default:
		y += 1900
	}
	if !validDate(y, m, day) {
		return false
	}
	return (10-weighted(d, []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3})%10)%10 == digit(d, 10)
}

// sePersonnummer checks the ten digits YYMMDDNNNC of a Swedish
// personnummer (Skatteverket SKV 704): a valid date (day + 60 for a
// samordningsnummer) and Luhn over the ten. century is the full year's
// first two digits when the twelve-digit form gave them, else -1.
func sePersonnummer(d string, century int) bool {
	y, m, day := two(d, 0), two(d, 2), two(d, 4)
	if day > 60 {
		day -= 60
	}
	if century >= 0 {
		y += century * 100
	} else {
		y += 2000 // only for the leap-year test: 00 is then a leap year
	}
	return validDate(y, m, day) && luhn(d)
}

// fiCheck is the check character table of the Finnish henkilötunnus
// (Väestörekisterikeskus): index = DDMMYYZZZ mod 31.
const fiCheck = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// fiCentury maps the century sign of a henkilötunnus to its century, or
// 0 (Valtioneuvoston asetus 128/2010 as amended in 2023: + 1800s, - and
// U-Y 1900s, A-F 2000s).
func fiCentury(c byte) int {
	switch c {
	case '+':
		return 1800
	case '-', 'Y', 'X', 'W', 'V', 'U':
		return 1900
	case 'A', 'B', 'C', 'D', 'E', 'F':
		return 2000
	}
	return 0
}

// fiHETU checks the eleven characters DDMMYYCZZZQ of a Finnish personal
// identity code: a valid date in the century C gives, an individual
// number ZZZ of 002-999 (900-999 are temporary numbers), and the check
// character Q.
func fiHETU(s string) bool {
	cen := fiCentury(s[6])
	if cen == 0 || !validDate(cen+two(s, 4), two(s, 2), two(s, 0)) {
		return false
	}
	z := digit(s, 7)*100 + digit(s, 8)*10 + digit(s, 9)
	if z < 2 {
		return false
	}
	n := 0
	for _, i := range [9]int{0, 1, 2, 3, 4, 5, 7, 8, 9} {
		n = n*10 + digit(s, i)
	}
	return upperASCII(s[10]) == fiCheck[n%31]
}

// upperASCII returns c in upper case.
func upperASCII(c byte) byte {
	if isLower(c) {
		return c - 32
	}
	return c
}

// krRRN checks the thirteen digits YYMMDDGNNNNNC of a South Korean
// resident registration number (주민등록법 시행규칙): a valid date in the
// century the gender digit G gives (1-2 1900s, 3-4 2000s; 5-8 are
// foreigners' registration numbers, another type). It returns whether
// the shape is valid and whether the check digit, (11 - sum mod 11) mod
// 10 with weights 2-9, 2-5, matches: numbers issued since October 2020
// carry a random last digit, so a failed check does not rule one out.
func krRRN(d string) (shape, check bool) {
	var y int
	switch d[6] {
	case '1', '2':
		y = 1900
	case '3', '4':
		y = 2000
	default:
		return false, false
	}
	if !validDate(y+two(d, 0), two(d, 2), two(d, 4)) {
		return false, false
	}
	s := weighted(d, []int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5})
	return true, (11-s%11)%10 == digit(d, 12)
}

// zaID checks a South African identity number (Identification Act 68 of
// 1997; Department of Home Affairs): thirteen digits YYMMDDSSSSCAZ, a
// valid date, citizenship C 0 (citizen), 1 (permanent resident) or 2
// (refugee), A 8 or 9, Luhn check digit Z.
func zaID(d string) bool {
	if !validDate(2000+two(d, 0), two(d, 2), two(d, 4)) {
		return false
	}
	if d[10] > '2' || (d[11] != '8' && d[11] != '9') {
		return false
	}
	return luhn(d)
}

// frNIR checks the fifteen digits of a French numéro d'inscription au
// répertoire (INSEE): sex 1, 2 (or 3, 4, 7, 8 for provisional numbers),
// month 01-12 or 20, 30-42, 50, 99 (unknown), and the key, 97 minus the
// first thirteen digits mod 97.
func frNIR(d string) bool {
	switch d[0] {
	case '1', '2', '3', '4', '7', '8':
	default:
		return false
	}
	if m := two(d, 3); !(m >= 1 && m <= 12 || m == 20 || m >= 30 && m <= 42 || m == 50 || m == 99) {
		return false
	}
	n := 0
	for i := 0; i < 13; i++ {
		n = n*10 + digit(d, i)
	}
	return 97-n%97 == two(d, 13)
}

// esLetters is the check letter table of the Spanish DNI/NIF and NIE
// (Real Decreto 1553/2005, art. 11; Ministerio del Interior): the number
// mod 23 indexes it.
const esLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// esCheck reports whether c (any case) is the check letter of n.
func esCheck(n int, c byte) bool { return upperASCII(c) == esLetters[n%23] }

// sgNRIC checks a Singapore NRIC or FIN (ICA): prefix S, T (citizens and
// permanent residents born in the 1900s, 2000s), F, G (foreigners), M
// (foreigners since 2022), seven digits, a check letter. The weights are
// 2, 7, 6, 5, 4, 3, 2; T and G add 4, M adds 3; the remainder mod 11
// indexes the prefix's table (M's from the end).
func sgNRIC(s string) bool {
	sum := 0
	for i, w := range [7]int{2, 7, 6, 5, 4, 3, 2} {
		sum += digit(s, i+1) * w
	}
	var table string
	switch s[0] {
	case 'S':
		table = "JZIHGFEDCBA"
	case 'T':
		table, sum = "JZIHGFEDCBA", sum+4
	case 'F':
		table = "XWUTRQPNMLK"
	case 'G':
		table, sum = "XWUTRQPNMLK", sum+4
	case 'M':
		sum += 3
		return s[8] == "KLJNPQRTUWX"[10-sum%11]
	default:
		return false
	}
	return s[8] == table[sum%11]
}

// itOdd is the value of a character in an odd (1st, 3rd, …) position of
// an Italian codice fiscale (D.M. 23 dicembre 1976, allegato); digits
// take the value of the letter at their index (0 as A, …).
var itOdd = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// itFiscalCode reports whether the sixteenth character of the upper-case
// codice fiscale s is its check letter: odd positions by itOdd, even
// positions 0-25 (digits 0-9), sum mod 26 as a letter.
func itFiscalCode(s string) bool {
	sum := 0
	for i := 0; i < 15; i++ {
		v := icaoValue(s[i])
		if v >= 10 {
			v -= 10
		}
		if i%2 == 0 {
			v = itOdd[v]
		}
		sum += v
	}
	return s[15] == byte('A'+sum%26)
}
