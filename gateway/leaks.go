package gateway

import (
	"fmt"

	"github.com/wardenhq/warden/detect"
)

// DefaultLeakTypes are the response guard's leak types by default
// (Config.LeakTypes).
var DefaultLeakTypes = []string{"SECRET", "FINANCIAL", "HEALTH", "GOVERNMENT_ID"}

// GovernmentIDTypes are the finding types the GOVERNMENT_ID leak class
// names: national identifiers that no model should write from nowhere.
var GovernmentIDTypes = []string{"US_SSN", "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE", "UK_NINO", "UK_NHS",
	// national identifiers of other countries (detect/ids_intl*.go);
	// business numbers (AU_ABN), provider numbers (US_NPI) and postcodes
	// are public or not personal, so not here.
	"CA_SIN", "UK_PASSPORT", "UK_DRIVING_LICENCE", "IN_AADHAAR", "IN_PAN", "AU_TFN", "AU_MEDICARE",
	"SG_NRIC_FIN", "DE_TAX_ID", "DE_ID_CARD", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "FR_NIR", "NL_BSN",
	"PL_PESEL", "SE_PERSONNUMMER", "FI_PERSONAL_IDENTITY_CODE", "KR_RRN", "ZA_ID_NUMBER", "US_MBI"}

// leakSet is the compiled Config.LeakTypes.
type leakSet struct {
	types map[string]bool
	cats  map[detect.Category]bool
}

func newLeakSet(names []string) (leakSet, error) {
	ls := leakSet{types: map[string]bool{}, cats: map[detect.Category]bool{}}
	for i, n := range names {
		switch c := detect.Category(n); c {
		case detect.PII, detect.Financial, detect.Health, detect.Secret, detect.Network:
			ls.cats[c] = true
		default:
			if n == "GOVERNMENT_ID" {
				for _, t := range GovernmentIDTypes {
					ls.types[t] = true
				}
				continue
			}
			if n == "" {
				return ls, fmt.Errorf("gateway: leak_types[%d]: empty type", i)
			}
			ls.types[n] = true
		}
	}
	return ls, nil
}

// has reports whether a finding is of a leak type.
func (ls leakSet) has(f detect.Finding) bool {
	return ls.types[f.Type] || ls.cats[f.Category]
}
