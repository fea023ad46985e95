package detect

// Postal codes read in the tail of a street address ("…, 10115 Berlin",
// "…, Toronto, ON M5V 3L9"). A postcode on its own is a number like any
// other; only after a street does postcodeAt look for one. The formats
// are those of the national postal services of the largest economies
// (the UPU's Postal addressing systems pages list them):
//
//	99999        US ZIP, DE, FR, IT, ES, MX, TR, SA, KR, TH, ID, MY, FI, HR
//	99999-9999   US ZIP+4
//	9999         AU, AT, CH, BE, DK, NO, HU, ZA, PH, NZ, AR (old), BD
//	999999       CN, IN, RU, SG, VN, KZ, RO, NG, CO
//	999 999      IN (written with a space)
//	9999 AA      NL (also 9999AA)
//	999 99       SE, CZ, SK, GR
//	99-999       PL
//	99999-999    BR (CEP)
//	999-9999     JP
//	9999-999     PT
//	A9A 9A9      CA (also A9A9A9)
//	A99 X9X9     IE Eircode (routing key, unique identifier)
//	A9999AAA     AR (CPA; also A9999)
//	AA9A 9AA …   GB (ukPostcode)
//
// It returns the end of the postcode at i, or 0; the postcode must end at
// a word boundary.
func postcodeAt(text string, i int) int {
	if i >= len(text) {
		return 0
	}
	if !isDigit(text[i]) {
		if e := caPostcode(text, i); e > 0 {
			return e
		}
		if e := eircode(text, i); e > 0 {
			return e
		}
		if e := arPostcode(text, i); e > 0 {
			return e
		}
		return ukPostcode(text, i)
	}
	n := postDigits(text, i)
	e := i + n
	switch n {
	case 2:
		if e+4 <= len(text) && text[e] == '-' && postDigits(text, e+1) == 3 { // PL
			return boundary(text, e+4)
		}
	case 3:
		if e+1 < len(text) && (text[e] == ' ' || text[e] == '-') {
			switch m := postDigits(text, e+1); {
			case m == 2 && text[e] == ' ': // SE, CZ, GR
				return boundary(text, e+3)
			case m == 3 && text[e] == ' ': // IN
				return boundary(text, e+4)
			case m == 4 && text[e] == '-': // JP
				return boundary(text, e+5)
			}
		}
	case 4:
		// NL: 1012 AB, 1012AB
		j := e
		if j < len(text) && text[j] == ' ' {
			j++
		}
		if j+2 <= len(text) && isUpper(text[j]) && isUpper(text[j+1]) && (j+2 == len(text) || !isAlnum(text[j+2])) && text[i] != '0' {
			return j + 2
		}
		if e+4 <= len(text) && text[e] == '-' && postDigits(text, e+1) == 3 { // PT
			return boundary(text, e+4)
		}
		return boundary(text, e)
	case 5:
		if e+1 < len(text) && text[e] == '-' {
			switch postDigits(text, e+1) {
			case 4: // ZIP+4
				return boundary(text, e+5)
			case 3: // BR
				return boundary(text, e+4)
			}
		}
		return boundary(text, e)
	case 6:
		return boundary(text, e)
	}
	return 0
}

// postDigits counts the ASCII digits from i.
func postDigits(text string, i int) int {
	n := 0
	for i+n < len(text) && isDigit(text[i+n]) {
		n++
	}
	return n
}

// boundary returns e when no letter, digit or digit-joining separator
// follows it, else 0.
func boundary(text string, e int) int {
	if e > len(text) || !cleanEnd(text, e) {
		return 0
	}
	return e
}

// caPostcode matches a Canadian postal code at i, "K1A 0B1" or "K1A0B1".
func caPostcode(text string, i int) int {
	if i+6 > len(text) || !isUpper(text[i]) || !isDigit(text[i+1]) || !isUpper(text[i+2]) {
		return 0
	}
	j := i + 3
	if text[j] == ' ' {
		j++
	}
	if j+3 > len(text) || !isDigit(text[j]) || !isUpper(text[j+1]) || !isDigit(text[j+2]) {
		return 0
	}
	return boundary(text, j+3)
}

// eircode matches an Irish Eircode at i: a routing key (a letter and two
// digits, or D6W) and a space, then four letters or digits, "D02 X285".
func eircode(text string, i int) int {
	if i+8 > len(text) || !isUpper(text[i]) || !isDigit(text[i+1]) || !(isDigit(text[i+2]) || text[i+2] == 'W') || text[i+3] != ' ' {
		return 0
	}
	digits := 0
	for k := i + 4; k < i+8; k++ {
		switch c := text[k]; {
		case isDigit(c):
			digits++
		case isUpper(c):
		default:
			return 0
		}
	}
	if digits == 0 || digits == 4 {
		return 0
	}
	return boundary(text, i+8)
}

// arPostcode matches an Argentine CPA at i: a province letter, four
// digits and three letters ("C1043AAZ"), or the letter and digits only.
func arPostcode(text string, i int) int {
	if i+5 > len(text) || !isUpper(text[i]) || postDigits(text, i+1) != 4 {
		return 0
	}
	e := i + 5
	if e+3 <= len(text) && isUpper(text[e]) && isUpper(text[e+1]) && isUpper(text[e+2]) {
		e += 3
	}
	if e < len(text) && isAlnum(text[e]) {
		return 0
	}
	return e
}
