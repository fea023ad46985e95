package report

import (
	"slices"
	"strings"
)

// LegalBasis is a lawful basis of GDPR Art. 6(1).
type LegalBasis struct {
	// Name is the config spelling (legal_basis: contract).
	Name string
	// Article is where the GDPR states it: "Art. 6(1)(b)".
	Article string
	// Text is the basis in words.
	Text string
}

// legalBases are GDPR Art. 6(1)(a)–(f), in the order of the article.
var legalBases = []LegalBasis{
	{"consent", "Art. 6(1)(a)", "consent of the data subject"},
	{"contract", "Art. 6(1)(b)", "performance of a contract with the data subject"},
	{"legal_obligation", "Art. 6(1)(c)", "compliance with a legal obligation"},
	{"vital_interests", "Art. 6(1)(d)", "protection of vital interests"},
	{"public_task", "Art. 6(1)(e)", "task in the public interest or official authority"},
	{"legitimate_interests", "Art. 6(1)(f)", "legitimate interests of the controller or a third party"},
}

// LegalBases returns the lawful bases of GDPR Art. 6(1).
func LegalBases() []LegalBasis { return slices.Clone(legalBases) }

// LookupLegalBasis returns the Art. 6(1) basis named name.
func LookupLegalBasis(name string) (LegalBasis, bool) {
	for _, b := range legalBases {
		if b.Name == name {
			return b, true
		}
	}
	return LegalBasis{}, false
}

// art9Conditions are the conditions of GDPR Art. 9(2)(a)–(j) under which
// special categories of personal data (health data among them) may be
// processed.
var art9Conditions = []LegalBasis{
	{"explicit_consent", "Art. 9(2)(a)", "explicit consent"},
	{"employment", "Art. 9(2)(b)", "obligations in employment, social security and social protection law"},
	{"vital_interests", "Art. 9(2)(c)", "vital interests of a data subject incapable of giving consent"},
	{"not_for_profit", "Art. 9(2)(d)", "legitimate activities of a not-for-profit body, for its members"},
	{"made_public", "Art. 9(2)(e)", "data manifestly made public by the data subject"},
	{"legal_claims", "Art. 9(2)(f)", "establishment, exercise or defence of legal claims"},
	{"substantial_public_interest", "Art. 9(2)(g)", "substantial public interest, on the basis of law"},
	{"health_care", "Art. 9(2)(h)", "preventive or occupational medicine, diagnosis, health or social care"},
	{"public_health", "Art. 9(2)(i)", "public interest in the area of public health"},
	{"research", "Art. 9(2)(j)", "archiving in the public interest, scientific or historical research, statistics"},
}

// Art9Conditions returns the conditions of GDPR Art. 9(2).
func Art9Conditions() []LegalBasis { return slices.Clone(art9Conditions) }

// LookupArt9Condition returns the Art. 9(2) condition named name.
func LookupArt9Condition(name string) (LegalBasis, bool) {
	for _, b := range art9Conditions {
		if b.Name == name {
			return b, true
		}
	}
	return LegalBasis{}, false
}

// iso3166 lists the officially assigned ISO 3166-1 alpha-2 codes (249).
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"YE YT " +
	"ZA ZM ZW"

// IsCountry reports whether code is an officially assigned ISO 3166-1
// alpha-2 country code, in upper case (DE, FR, US; not UK or EU).
func IsCountry(code string) bool {
	if len(code) != 2 {
		return false
	}
	i := strings.Index(iso3166, code)
	return i >= 0 && i%3 == 0
}

// Region groups of countries that report.home_region may name.
var regionGroups = map[string][]string{
	// The 27 member states of the European Union (since 1 February
	// 2020); Greece is GR in ISO 3166-1 (EL in EU usage).
	"EU": {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
		"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"},
	// The European Economic Area: the EU with Iceland, Liechtenstein
	// and Norway, where the GDPR applies as in the EU.
	"EEA": {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
		"IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"},
}

// RegionGroup returns the countries of a named group (EU, EEA).
func RegionGroup(name string) ([]string, bool) {
	g, ok := regionGroups[name]
	return slices.Clone(g), ok
}

// home is the set of places report.home_region names.
type home struct {
	countries map[string]bool
	regions   map[string]bool // region names upstreams use
	names     []string        // as configured
}

func newHome(names []string) home {
	h := home{countries: map[string]bool{}, regions: map[string]bool{}, names: names}
	for _, n := range names {
		switch g, ok := regionGroups[n]; {
		case ok:
			for _, c := range g {
				h.countries[c] = true
			}
		case IsCountry(n):
			h.countries[n] = true
		default:
			h.regions[n] = true
		}
	}
	return h
}

// placement says where a recipient is relative to the home region.
type placement int

const (
	notAssessed placement = iota // no home region configured
	inside
	outside
	unknownPlace // the recipient declares no country
)

func (h home) place(r Recipient) placement {
	switch {
	case len(h.names) == 0:
		return notAssessed
	case r.Builtin:
		return inside
	case r.Region != "" && h.regions[r.Region]:
		return inside
	case r.Country == "":
		return unknownPlace
	case h.countries[r.Country]:
		return inside
	}
	return outside
}

func (p placement) String() string {
	switch p {
	case inside:
		return "inside"
	case outside:
		return "outside"
	case unknownPlace:
		return "unknown"
	}
	return "not assessed"
}
