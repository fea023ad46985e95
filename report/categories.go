package report

import "slices"

// Categories of findings, as package detect names them, and the one
// this report gives a finding type it cannot place.
const (
	PII          = "PII"
	Financial    = "FINANCIAL"
	Health       = "HEALTH"
	Secret       = "SECRET"
	Network      = "NETWORK"
	Unclassified = "UNCLASSIFIED"
	// None is the category of requests in which nothing was found.
	None = "NONE"
)

// categoryOrder is the order categories are listed in.
var categoryOrder = []string{Health, Financial, PII, Network, Secret, Unclassified, None}

// categoryLabels say what each category is in the terms of GDPR Art. 30(1)(c).
var categoryLabels = map[string]string{
	PII:          "identification and contact data (names, addresses, e-mail, phone, dates, national identifiers)",
	Financial:    "financial data (card, bank account, payment and crypto-wallet identifiers)",
	Health:       "data concerning health: special category, GDPR Art. 9(1)",
	Network:      "online identifiers (IP and MAC addresses, URLs)",
	Secret:       "credentials and keys (security data; personal data only where they identify a person)",
	Unclassified: "finding types this report cannot place in a category",
	None:         "no personal data detected",
}

// CategoryLabel describes a category of findings.
func CategoryLabel(cat string) string { return categoryLabels[cat] }

// Special reports whether a category holds special categories of
// personal data (GDPR Art. 9(1)).
func Special(cat string) bool { return cat == Health }

// typeCategories maps the built-in finding types of package detect to
// their categories. The audit log records types only; TestCategoriesAgreeWithDetect
// checks this table against what the engine reports.
var typeCategories = func() map[string]string {
	m := map[string]string{}
	for cat, types := range map[string][]string{
		PII: {
			"AU_ABN", "AU_TFN", "CA_SIN", "DATE_TIME", "DENY_LIST", "DE_ID_CARD", "DE_TAX_ID",
			"EMAIL_ADDRESS", "ES_NIE", "ES_NIF", "FI_PERSONAL_IDENTITY_CODE", "FR_NIR", "IN_AADHAAR",
			"IN_PAN", "IT_FISCAL_CODE", "KR_RRN", "LOCATION", "NL_BSN", "PERSON", "PHONE_NUMBER",
			"PL_PESEL", "SE_PERSONNUMMER", "SG_NRIC_FIN", "UK_DRIVING_LICENCE", "UK_NINO", "UK_PASSPORT",
			"UK_POSTCODE", "US_DRIVER_LICENSE", "US_ITIN", "US_NPI", "US_PASSPORT", "US_SSN",
			"ZA_ID_NUMBER",
		},
		Financial: {
			"ABA_ROUTING_NUMBER", "CREDIT_CARD", "CRYPTO", "IBAN_CODE", "SWIFT_CODE", "US_BANK_NUMBER",
		},
		Health: {
			"AU_MEDICARE", "MEDICAL_RECORD_NUMBER", "UK_NHS", "US_MBI",
		},
		Network: {
			"IP_ADDRESS", "MAC_ADDRESS", "URL",
		},
		Secret: {
			"AGE_SECRET_KEY", "AIRTABLE_TOKEN", "ALIBABA_ACCESS_KEY", "ANTHROPIC_API_KEY",
			"ATLASSIAN_API_TOKEN", "AWS_ACCESS_KEY", "AWS_BEDROCK_API_KEY", "AWS_SECRET_KEY",
			"AZURE_CLIENT_SECRET", "AZURE_STORAGE_KEY", "BASIC_AUTH_HEADER", "BASIC_AUTH_URL",
			"BEARER_TOKEN", "BRAINTREE_ACCESS_TOKEN", "BREVO_API_KEY", "BUILDKITE_TOKEN",
			"CLOUDFLARE_API_KEY", "CONTENTFUL_TOKEN", "DATABASE_URL", "DATABRICKS_TOKEN",
			"DATADOG_API_KEY", "DIGITALOCEAN_TOKEN", "DISCORD_BOT_TOKEN", "DISCORD_WEBHOOK",
			"DOCKER_HUB_TOKEN", "DOPPLER_TOKEN", "DROPBOX_TOKEN", "EASYPOST_API_KEY", "FCM_SERVER_KEY",
			"FLUTTERWAVE_KEY", "FLYIO_TOKEN", "GCP_API_KEY", "GCP_SERVICE_ACCOUNT", "GENERIC_SECRET",
			"GITHUB_TOKEN", "GITLAB_TOKEN", "GOOGLE_OAUTH_CLIENT_SECRET", "GOOGLE_OAUTH_TOKEN",
			"GRAFANA_TOKEN", "GROQ_API_KEY", "HEROKU_API_KEY", "HUGGINGFACE_TOKEN", "JFROG_TOKEN", "JWT",
			"LANGSMITH_API_KEY", "LINEAR_API_KEY", "MAILCHIMP_API_KEY", "MAILGUN_API_KEY", "MAPBOX_TOKEN",
			"NETLIFY_TOKEN", "NEW_RELIC_KEY", "NOTION_TOKEN", "NPM_TOKEN", "ONEPASSWORD_TOKEN",
			"OPENAI_API_KEY", "OPENROUTER_API_KEY", "PERPLEXITY_API_KEY", "PLANETSCALE_TOKEN",
			"POSTMAN_API_KEY", "PRIVATE_KEY", "PULUMI_TOKEN", "PYPI_TOKEN", "REPLICATE_API_TOKEN",
			"RUBYGEMS_TOKEN", "SENDGRID_API_KEY", "SENTRY_AUTH_TOKEN", "SENTRY_DSN", "SHIPPO_API_TOKEN",
			"SHOPIFY_TOKEN", "SLACK_TOKEN", "SLACK_WEBHOOK", "SOURCEGRAPH_TOKEN", "SQUARE_TOKEN",
			"STRIPE_KEY", "STRIPE_WEBHOOK_SECRET", "SUPABASE_TOKEN", "TAILSCALE_KEY",
			"TELEGRAM_BOT_TOKEN", "TERRAFORM_CLOUD_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_API_KEY",
			"TWILIO_AUTH_TOKEN", "TWITTER_BEARER_TOKEN", "VAULT_TOKEN", "XAI_API_KEY",
		},
	} {
		for _, t := range types {
			m[t] = cat
		}
	}
	return m
}()

// BuiltinTypes returns the finding types whose category the report
// knows without configuration, sorted.
func BuiltinTypes() []string {
	out := make([]string, 0, len(typeCategories))
	for t := range typeCategories {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// categorizer places finding types in categories: configured types
// first (custom recognizers, deny lists), then the built-in table.
type categorizer map[string]string

func (c categorizer) of(typ string) string {
	if cat, ok := c[typ]; ok {
		return cat
	}
	if cat, ok := typeCategories[typ]; ok {
		return cat
	}
	return Unclassified
}
