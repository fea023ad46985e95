package detect

// luhn reports whether the ASCII digit string d passes the Luhn (mod 10)
// check used by payment cards (ISO/IEC 7812-1 Annex B).
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
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

// abaChecksum checks an ABA routing transit number: weights 3,7,1 repeated,
// sum divisible by 10.
func abaChecksum(d string) bool {
	w := [9]int{3, 7, 1, 3, 7, 1, 3, 7, 1}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * w[i]
	}
	return sum%10 == 0 && d != "000000000"
}

// nhsChecksum checks a UK NHS number: weights 10..2 on the first nine
// digits, check digit = 11 - (sum mod 11), 11 -> 0, 10 invalid.
func nhsChecksum(d string) bool {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	c := 11 - sum%11
	if c == 11 {
		c = 0
	}
	return c != 10 && c == int(d[9]-'0')
}

// validSSN applies the SSA's structural rules to nine digits: area not
// 000, 666 or 900-999; group not 00; serial not 0000. Also refuses the
// numbers the SSA voided after advertising use (078-05-1120, 219-09-9999)
// and all-same-digit sequences.
func validSSN(d string) bool {
	area := d[:3]
	if area == "000" || area == "666" || d[0] == '9' {
		return false
	}
	if d[3:5] == "00" || d[5:] == "0000" {
		return false
	}
	if d == "078051120" || d == "219099999" || d == "123456789" {
		return false
	}
	same := true
	for i := 1; i < 9; i++ {
		same = same && d[i] == d[0]
	}
	return !same
}

// validITIN checks a US ITIN: nine digits starting with 9, with the fourth
// and fifth digits in 50-65, 70-88, 90-92 or 94-99 (IRS ranges).
func validITIN(d string) bool {
	if d[0] != '9' {
		return false
	}
	g := int(d[3]-'0')*10 + int(d[4]-'0')
	return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99)
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of an alphanumeric
// string whose letters count as 10..35 (used by IBAN after moving the
// first four characters to the end).
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			r = (r*100 + int(c-'A'+10)) % 97
		case c >= 'a' && c <= 'z':
			r = (r*100 + int(c-'a'+10)) % 97
		default:
			return -1
		}
	}
	return r
}
