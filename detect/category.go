package detect

import "sync"

// Categories of finding types
//
// A finding carries its category, which its recognizer sets. Readers of
// records that keep only type names (the audit log counts findings by
// type) recover the category here: TypeCategory for the built-in
// recognizers, Config.TypeCategory for a configuration's custom types
// too. Every type of the secret recognizers is SECRET; the other
// built-in types are listed below, and the tests check that every
// finding the engine reports on the test corpora has the category this
// table gives its type, and that every built-in type is in it.

// builtinCategories maps each type of the built-in recognizers other
// than the secret ones to its category.
var builtinCategories = map[string]Category{
	"EMAIL_ADDRESS": PII, "PHONE_NUMBER": PII, "PERSON": PII, "LOCATION": PII, "DATE_TIME": PII,
	"US_SSN": PII, "US_ITIN": PII, "UK_NINO": PII, "US_DRIVER_LICENSE": PII, "US_PASSPORT": PII,
	"CA_SIN": PII, "AU_TFN": PII, "AU_ABN": PII, "NL_BSN": PII, "US_NPI": PII, "IN_AADHAAR": PII,
	"DE_TAX_ID": PII, "PL_PESEL": PII, "SE_PERSONNUMMER": PII, "KR_RRN": PII, "ZA_ID_NUMBER": PII,
	"FR_NIR": PII, "FI_PERSONAL_IDENTITY_CODE": PII, "ES_NIF": PII, "UK_PASSPORT": PII,
	"UK_DRIVING_LICENCE": PII, "UK_POSTCODE": PII, "IN_PAN": PII, "SG_NRIC_FIN": PII,
	"DE_ID_CARD": PII, "ES_NIE": PII, "IT_FISCAL_CODE": PII,
	"CREDIT_CARD": Financial, "ABA_ROUTING_NUMBER": Financial, "IBAN_CODE": Financial,
	"CRYPTO": Financial, "SWIFT_CODE": Financial, "US_BANK_NUMBER": Financial,
	"UK_NHS": Health, "AU_MEDICARE": Health, "US_MBI": Health, "MEDICAL_RECORD_NUMBER": Health,
	"URL": Network, "IP_ADDRESS": Network, "MAC_ADDRESS": Network,
}

// secretTypes lists the types of the secret recognizers, built once.
var secretTypes = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, r := range secretRecognizers() {
		if t, ok := r.(interface{ Types() []string }); ok {
			for _, typ := range t.Types() {
				out[typ] = true
			}
		}
	}
	return out
})

// TypeCategory returns the category the built-in recognizers give
// findings of typ; ok is false for a type no built-in recognizer reports.
func TypeCategory(typ string) (c Category, ok bool) {
	if c, ok := builtinCategories[typ]; ok {
		return c, true
	}
	if secretTypes()[typ] {
		return Secret, true
	}
	return "", false
}

// TypeCategory returns the category findings of typ get under c: that
// of a custom recognizer, deny rule or JSON field rule of c reporting
// typ, else the built-in one (TypeCategory). ok is false for a type
// neither reports.
func (c *Config) TypeCategory(typ string) (Category, bool) {
	orPII := func(cat Category) Category {
		if cat == "" {
			return PII
		}
		return cat
	}
	for _, r := range c.Custom {
		if r.Type == typ {
			return orPII(r.Category), true
		}
	}
	for _, d := range c.Deny {
		t := d.Type
		if t == "" {
			t = "DENY_LIST"
		}
		if t == typ {
			return orPII(d.Category), true
		}
	}
	for _, f := range c.JSON.Fields {
		if f.Action == FieldAlways && f.Type == typ {
			return orPII(f.Category), true
		}
	}
	return TypeCategory(typ)
}
