package detect

import "strings"

// tokenRules returns the prefix-anchored vendor token rules. Formats come
// from the vendors' published token documentation (GitHub's 2021 token
// format post, Slack, Stripe, OpenAI, Anthropic, GitLab token prefixes …)
// and the public gitleaks rule set; each entry notes what it checks.
func tokenRules() []*tokenRule {
	return []*tokenRule{
		// AWS access key IDs: a four-letter type prefix and 16 base32
		// characters. Keys outside base32 are shapes seen in hand-made
		// examples; they still count, a little lower.
		{name: "aws_access_key", typ: "AWS_ACCESS_KEY", prefixes: []string{"AKIA", "ASIA", "ABIA", "ACCA"},
			body: csUpperNum, min: 16, max: 16, score: 0.95, check: checkAWSKeyID},
		// Google API keys (also Firebase web keys): "AIza" + 35.
		{name: "gcp_api_key", typ: "GCP_API_KEY", prefixes: []string{"AIza"}, body: csB64URL, min: 35, max: 35, score: 0.95},
		// GitHub classic tokens: 30 random base62 + 6 base62 CRC32.
		{name: "github_token", typ: "GITHUB_TOKEN", prefixes: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
			body: csBase62, min: 36, max: 36, score: 1.0, check: checkBase62CRC},
		// GitHub fine-grained PATs: 22 + '_' + 59.
		{name: "github_pat", typ: "GITHUB_TOKEN", prefixes: []string{"github_pat_"}, body: csAlnumUnd, min: 82, max: 82, score: 0.95,
			check: func(tok, b string, sc float64) float64 {
				if b[22] != '_' || strings.IndexByte(b[:22], '_') >= 0 || strings.IndexByte(b[23:], '_') >= 0 {
					return 0
				}
				return sc
			}},
		// GitLab token family (personal, deploy, runner, trigger, feed,
		// job, mail, agent, SCIM, OAuth app secret, feature flags).
		{name: "gitlab_token", typ: "GITLAB_TOKEN", prefixes: []string{"glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glcbt-",
			"glimt-", "glagent-", "glsoat-", "gloas-", "glffct-", "glwt-", "GR1348941"},
			body: csWordDot, min: 20, max: 320, score: 0.95, trimDot: true, check: checkGitLab},
		// Slack bot/user/app/refresh/config tokens.
		{name: "slack_token", typ: "SLACK_TOKEN", prefixes: []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe-", "xoxe.xoxp-", "xoxe.xoxb-", "xapp-"},
			body: csAlnumDash, min: 20, max: 250, score: 0.9, check: checkSlack},
		// Stripe secret and restricted keys. Publishable keys (pk_) are
		// public by design and not reported.
		{name: "stripe_key", typ: "STRIPE_KEY", prefixes: []string{"sk_live_", "rk_live_", "sk_prod_", "rk_prod_"},
			body: csBase62, min: 20, max: 247, score: 0.95},
		{name: "stripe_test_key", typ: "STRIPE_KEY", prefixes: []string{"sk_test_", "rk_test_"},
			body: csBase62, min: 20, max: 247, score: 0.8},
		{name: "stripe_webhook_secret", typ: "STRIPE_WEBHOOK_SECRET", prefixes: []string{"whsec_"},
			body: csB64Pad, min: 32, max: 64, score: 0.95},
		// OpenAI project / service-account / admin keys; genuine keys
		// carry "T3BlbkFJ" (base64 of "OpenAI") in the middle.
		{name: "openai_key", typ: "OPENAI_API_KEY", prefixes: []string{"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-None-"},
			body: csB64URL, min: 40, max: 250, score: 0.85, check: checkOpenAI},
		// Legacy OpenAI keys: sk- + 20 + T3BlbkFJ + 20. Other "sk-" keys of
		// 32-64 alphanumerics (several LLM vendors) are reported as
		// generic secrets.
		{name: "openai_legacy_key", typ: "OPENAI_API_KEY", prefixes: []string{"sk-"}, body: csBase62, min: 48, max: 48, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[20:28] != "T3BlbkFJ" {
					return 0
				}
				return sc
			}},
		{name: "sk_key", typ: "GENERIC_SECRET", prefixes: []string{"sk-"}, body: csBase62, min: 32, max: 64, score: 0.55, check: checkLegacySK},
		{name: "openrouter_key", typ: "OPENROUTER_API_KEY", prefixes: []string{"sk-or-v1-"}, body: csHexLower, min: 64, max: 64, score: 1.0},
		// Anthropic: sk-ant-api03- / sk-ant-admin01- + 93 + "AA".
		{name: "anthropic_key", typ: "ANTHROPIC_API_KEY", prefixes: []string{"sk-ant-api03-", "sk-ant-admin01-", "sk-ant-oat01-", "sk-ant-ort01-", "sk-ant-sid01-"},
			body: csB64URL, min: 80, max: 120, score: 0.85,
			check: func(tok, b string, sc float64) float64 {
				if len(b) == 95 && strings.HasSuffix(b, "AA") {
					return 1.0
				}
				return sc
			}},
		// Twilio: API key SIDs (SK + 32 hex) are secrets' identifiers
		// issued with a secret; account SIDs (AC…) need context.
		{name: "twilio_api_key", typ: "TWILIO_API_KEY", prefixes: []string{"SK"}, body: csHexLower, min: 32, max: 32, score: 0.7},
		{name: "twilio_account_sid", typ: "TWILIO_ACCOUNT_SID", prefixes: []string{"AC"}, body: csHexLower, min: 32, max: 32, score: 0.4,
			ctx: []string{"twilio", "account", "sid"}},
		// SendGrid: SG.<22>.<43>.
		{name: "sendgrid_key", typ: "SENDGRID_API_KEY", prefixes: []string{"SG."}, body: csWordDot, min: 66, max: 66, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[22] != '.' || strings.IndexByte(b[:22], '.') >= 0 || strings.IndexByte(b[23:], '.') >= 0 {
					return 0
				}
				return sc
			}},
		// npm granular/automation tokens: same base62 CRC32 tail as GitHub.
		{name: "npm_token", typ: "NPM_TOKEN", prefixes: []string{"npm_"}, body: csBase62, min: 36, max: 36, score: 1.0, check: checkBase62CRC},
		// PyPI API tokens are macaroons whose base64 starts with the
		// location "pypi.org" (or "test.pypi.org").
		{name: "pypi_token", typ: "PYPI_TOKEN", prefixes: []string{"pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"},
			body: csB64URL, min: 50, max: 1000, score: 1.0},
		// Shopify admin/custom/private-app tokens and shared secrets.
		{name: "shopify_token", typ: "SHOPIFY_TOKEN", prefixes: []string{"shpat_", "shpca_", "shppa_", "shpss_"}, body: csHex, min: 32, max: 32, score: 0.95},
		// Mailgun private API keys.
		{name: "mailgun_key", typ: "MAILGUN_API_KEY", prefixes: []string{"key-"}, body: csHexLower, min: 32, max: 32, score: 0.8},
		// Hugging Face user and org tokens: hf_ + 34 letters.
		{name: "huggingface_token", typ: "HUGGINGFACE_TOKEN", prefixes: []string{"hf_", "api_org_"}, body: csBase62, min: 34, max: 34, score: 0.9,
			check: func(tok, b string, sc float64) float64 {
				if allIn(b, csLetters) {
					return 0.95
				}
				return sc
			}},
		// Google OAuth client secrets and access tokens.
		{name: "google_oauth_secret", typ: "GOOGLE_OAUTH_CLIENT_SECRET", prefixes: []string{"GOCSPX-"}, body: csB64URL, min: 28, max: 28, score: 1.0},
		{name: "google_oauth_token", typ: "GOOGLE_OAUTH_TOKEN", prefixes: []string{"ya29."}, body: csB64URL, min: 30, max: 2048, score: 0.9},
		// DigitalOcean personal, OAuth and refresh tokens.
		{name: "digitalocean_token", typ: "DIGITALOCEAN_TOKEN", prefixes: []string{"dop_v1_", "doo_v1_", "dor_v1_"}, body: csHexLower, min: 64, max: 64, score: 1.0},
		// Heroku platform API keys (2024 format).
		{name: "heroku_key", typ: "HEROKU_API_KEY", prefixes: []string{"HRKU-"}, body: csB64URL, min: 50, max: 70, score: 0.95},
		// Square access tokens and OAuth secrets.
		{name: "square_token", typ: "SQUARE_TOKEN", prefixes: []string{"sq0atp-"}, body: csB64URL, min: 22, max: 22, score: 0.95},
		{name: "square_secret", typ: "SQUARE_TOKEN", prefixes: []string{"sq0csp-"}, body: csB64URL, min: 43, max: 43, score: 0.95},
		{name: "square_access_token", typ: "SQUARE_TOKEN", prefixes: []string{"EAAA"}, body: csB64URL, min: 60, max: 60, score: 0.8},
		// Braintree / PayPal access tokens:
		// access_token$<env>$<16 [0-9a-z]>$<32 hex>.
		{name: "braintree_token", typ: "BRAINTREE_ACCESS_TOKEN", prefixes: []string{"access_token$"}, body: csBraintree, min: 40, max: 70, score: 1.0, check: checkBraintree},
		// Atlassian API tokens (2023+), ending in an 8-hex checksum field.
		{name: "atlassian_token", typ: "ATLASSIAN_API_TOKEN", prefixes: []string{"ATATT3", "ATCTT3"}, body: csWordEq, min: 150, max: 300, score: 0.95},
		// Linear API keys and OAuth tokens.
		{name: "linear_key", typ: "LINEAR_API_KEY", prefixes: []string{"lin_api_"}, body: csBase62, min: 40, max: 40, score: 1.0},
		{name: "linear_oauth", typ: "LINEAR_API_KEY", prefixes: []string{"lin_oauth_"}, body: csHexLower, min: 64, max: 64, score: 1.0},
		// Notion integration tokens: legacy secret_ + 43, ntn_ + 11 digits + 35.
		{name: "notion_secret", typ: "NOTION_TOKEN", prefixes: []string{"secret_"}, body: csBase62, min: 43, max: 43, score: 0.8,
			check: func(tok, b string, sc float64) float64 {
				if !hasClasses(b, 3) {
					return 0
				}
				return sc
			}},
		{name: "notion_token", typ: "NOTION_TOKEN", prefixes: []string{"ntn_"}, body: csBase62, min: 46, max: 46, score: 0.95,
			check: func(tok, b string, sc float64) float64 {
				if !allIn(b[:11], csDigits) {
					return 0
				}
				return sc
			}},
		// Postman API keys: PMAK-<24 hex>-<34 hex>.
		{name: "postman_key", typ: "POSTMAN_API_KEY", prefixes: []string{"PMAK-"}, body: csHexDash, min: 59, max: 59, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[24] != '-' || strings.Count(b, "-") != 1 {
					return 0
				}
				return sc
			}},
		// Doppler personal, service, CLI, service-account, SCIM and audit tokens.
		{name: "doppler_token", typ: "DOPPLER_TOKEN", prefixes: []string{"dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."},
			body: csWordDot, min: 40, max: 100, score: 0.95, trimDot: true},
		// HashiCorp Vault service, batch and recovery tokens.
		{name: "vault_token", typ: "VAULT_TOKEN", prefixes: []string{"hvs.", "hvb.", "hvr."}, body: csB64URL, min: 24, max: 400, score: 0.9,
			check: func(tok, b string, sc float64) float64 {
				if strings.HasPrefix(b, "CAES") || len(b) >= 90 {
					return 0.95
				}
				return sc
			}},
		// Grafana Cloud tokens, service account tokens, legacy API keys.
		{name: "grafana_cloud_token", typ: "GRAFANA_TOKEN", prefixes: []string{"glc_"}, body: csB64Pad, min: 32, max: 400, score: 0.95},
		{name: "grafana_sa_token", typ: "GRAFANA_TOKEN", prefixes: []string{"glsa_"}, body: csAlnumUnd, min: 41, max: 41, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[32] != '_' || !allIn(b[:32], csBase62) || !allIn(b[33:], csHex) {
					return 0
				}
				return sc
			}},
		{name: "grafana_api_key", typ: "GRAFANA_TOKEN", prefixes: []string{"eyJrIjoi"}, body: csB64Pad, min: 60, max: 400, score: 0.9},
		// New Relic user, insert, query and license keys.
		{name: "newrelic_user_key", typ: "NEW_RELIC_KEY", prefixes: []string{"NRAK-"}, body: csUpperNum, min: 27, max: 27, score: 1.0},
		{name: "newrelic_insert_key", typ: "NEW_RELIC_KEY", prefixes: []string{"NRII-", "NRIQ-"}, body: csB64URL, min: 32, max: 32, score: 0.95},
		// Sentry auth tokens (org and user).
		{name: "sentry_org_token", typ: "SENTRY_AUTH_TOKEN", prefixes: []string{"sntrys_"}, body: csB64Any, min: 60, max: 500, score: 0.95, check: checkSentryOrg},
		{name: "sentry_user_token", typ: "SENTRY_AUTH_TOKEN", prefixes: []string{"sntryu_"}, body: csHexLower, min: 64, max: 64, score: 1.0},
		// age X25519 identities: Bech32 with a BIP-173 checksum.
		{name: "age_secret_key", typ: "AGE_SECRET_KEY", prefixes: []string{"AGE-SECRET-KEY-1"}, body: csBech32, min: 58, max: 58, score: 1.0, check: checkAgeKey},
		// Alibaba Cloud AccessKey IDs.
		{name: "alibaba_access_key", typ: "ALIBABA_ACCESS_KEY", prefixes: []string{"LTAI"}, body: csBase62, min: 12, max: 20, score: 0.85,
			check: func(tok, b string, sc float64) float64 {
				if !hasClasses(b, 2) {
					return 0
				}
				return sc
			}},
		// Firebase Cloud Messaging legacy server keys: AAAA<7>:APA91b<134>.
		{name: "fcm_server_key", typ: "FCM_SERVER_KEY", prefixes: []string{"AAAA"}, body: csFCM, min: 140, max: 160, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if len(b) < 14 || b[7] != ':' || b[8:14] != "APA91b" || strings.IndexByte(b[14:], ':') >= 0 {
					return 0
				}
				return sc
			}},
		// Databricks personal access tokens: dapi + 32 hex (+ "-N").
		{name: "databricks_token", typ: "DATABRICKS_TOKEN", prefixes: []string{"dapi"}, body: csHexDash, min: 32, max: 34, score: 0.95,
			check: func(tok, b string, sc float64) float64 {
				if !allIn(b[:32], csHexLower) || (len(b) > 32 && (len(b) != 34 || b[32] != '-' || !isDigit(b[33]))) {
					return 0
				}
				return sc
			}},
		// Cloudflare Origin CA keys: v1.0-<24 hex>-<146 hex>.
		{name: "cloudflare_origin_ca", typ: "CLOUDFLARE_API_KEY", prefixes: []string{"v1.0-"}, body: csHexDash, min: 171, max: 171, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[24] != '-' || strings.Count(b, "-") != 1 {
					return 0
				}
				return sc
			}},
		// LLM and developer platforms.
		{name: "groq_key", typ: "GROQ_API_KEY", prefixes: []string{"gsk_"}, body: csBase62, min: 52, max: 52, score: 0.95},
		{name: "replicate_token", typ: "REPLICATE_API_TOKEN", prefixes: []string{"r8_"}, body: csBase62, min: 37, max: 37, score: 0.95},
		{name: "xai_key", typ: "XAI_API_KEY", prefixes: []string{"xai-"}, body: csBase62, min: 80, max: 80, score: 0.95},
		{name: "perplexity_key", typ: "PERPLEXITY_API_KEY", prefixes: []string{"pplx-"}, body: csBase62, min: 48, max: 48, score: 0.95},
		{name: "langsmith_key", typ: "LANGSMITH_API_KEY", prefixes: []string{"lsv2_pt_", "lsv2_sk_"}, body: csHexUnder, min: 43, max: 43, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[32] != '_' || strings.Count(b, "_") != 1 {
					return 0
				}
				return sc
			}},
		{name: "docker_hub_token", typ: "DOCKER_HUB_TOKEN", prefixes: []string{"dckr_pat_", "dckr_oat_"}, body: csB64URL, min: 27, max: 27, score: 0.95},
		{name: "pulumi_token", typ: "PULUMI_TOKEN", prefixes: []string{"pul-"}, body: csHexLower, min: 40, max: 40, score: 0.95},
		{name: "tailscale_key", typ: "TAILSCALE_KEY", prefixes: []string{"tskey-auth-", "tskey-api-", "tskey-client-", "tskey-scim-", "tskey-webhook-"},
			body: csAlnumDash, min: 20, max: 120, score: 0.95},
		{name: "supabase_token", typ: "SUPABASE_TOKEN", prefixes: []string{"sbp_"}, body: csHexLower, min: 40, max: 40, score: 0.95},
		{name: "supabase_secret", typ: "SUPABASE_TOKEN", prefixes: []string{"sb_secret_"}, body: csB64URL, min: 28, max: 48, score: 0.95},
		{name: "planetscale_token", typ: "PLANETSCALE_TOKEN", prefixes: []string{"pscale_tkn_", "pscale_pw_", "pscale_oauth_"},
			body: csWordDot, min: 32, max: 64, score: 0.95, trimDot: true},
		{name: "airtable_pat", typ: "AIRTABLE_TOKEN", prefixes: []string{"pat"}, body: csAirtable, min: 79, max: 79, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[14] != '.' || !allIn(b[:14], csBase62) || !allIn(b[15:], csHexLower) {
					return 0
				}
				return sc
			}},
		{name: "jfrog_api_key", typ: "JFROG_TOKEN", prefixes: []string{"AKCp"}, body: csBase62, min: 69, max: 69, score: 0.95},
		{name: "twitter_bearer", typ: "TWITTER_BEARER_TOKEN", prefixes: []string{"AAAAAAAAAAAAAAAAAAAAA"}, body: csB64Pct, min: 60, max: 120, score: 0.9},
		{name: "mapbox_secret", typ: "MAPBOX_TOKEN", prefixes: []string{"sk.eyJ"}, body: csWordDot, min: 60, max: 300, score: 0.95, trimDot: true,
			check: func(tok, b string, sc float64) float64 {
				if strings.Count(b, ".") != 1 {
					return 0
				}
				return sc
			}},
		{name: "shippo_token", typ: "SHIPPO_API_TOKEN", prefixes: []string{"shippo_live_", "shippo_test_"}, body: csHex, min: 40, max: 40, score: 0.95},
		{name: "brevo_key", typ: "BREVO_API_KEY", prefixes: []string{"xkeysib-", "xsmtpsib-"}, body: csAlnumDash, min: 81, max: 81, score: 1.0,
			check: func(tok, b string, sc float64) float64 {
				if b[64] != '-' || !allIn(b[:64], csHexLower) || !allIn(b[65:], csBase62) {
					return 0
				}
				return sc
			}},
		{name: "contentful_token", typ: "CONTENTFUL_TOKEN", prefixes: []string{"CFPAT-"}, body: csB64URL, min: 43, max: 43, score: 0.95},
		{name: "netlify_token", typ: "NETLIFY_TOKEN", prefixes: []string{"nfp_"}, body: csBase62, min: 36, max: 36, score: 0.9},
		{name: "flyio_token", typ: "FLYIO_TOKEN", prefixes: []string{"fm1a_", "fm1r_", "fm2_"}, body: csB64Pad, min: 100, max: 2000, score: 0.95},
		{name: "onepassword_sa_token", typ: "ONEPASSWORD_TOKEN", prefixes: []string{"ops_eyJ"}, body: csB64Pad, min: 100, max: 2000, score: 0.95},
		{name: "buildkite_token", typ: "BUILDKITE_TOKEN", prefixes: []string{"bkua_"}, body: csHexLower, min: 40, max: 40, score: 0.95},
		{name: "dropbox_token", typ: "DROPBOX_TOKEN", prefixes: []string{"sl.u.", "sl."}, body: csB64URL, min: 130, max: 1400, score: 0.85},
		{name: "rubygems_token", typ: "RUBYGEMS_TOKEN", prefixes: []string{"rubygems_"}, body: csHexLower, min: 48, max: 48, score: 1.0},
		// Flutterwave secret keys (FLWSECK-<32 hex>-X) and encryption
		// keys (FLWSECK_TEST<12 hex>, FLWSECK_TEST-<12 hex> in samples).
		{name: "flutterwave_key", typ: "FLUTTERWAVE_KEY", prefixes: []string{"FLWSECK-", "FLWSECK_TEST-", "FLWSECK_TEST"},
			body: csAlnumDash, min: 12, max: 34, score: 0.95, check: checkFlutterwave},
		// EasyPost production and test API keys: EZAK / EZTK + 54 base62.
		{name: "easypost_key", typ: "EASYPOST_API_KEY", prefixes: []string{"EZAK", "EZTK"}, body: csBase62, min: 54, max: 54, score: 0.9,
			check: func(tok, b string, sc float64) float64 {
				if !hasClasses(b, 3) {
					return 0
				}
				return sc
			}},
		// Sourcegraph access tokens: sgp_ + [<16 hex>|local _] + 40 hex,
		// or the older sgp_ + 40 hex.
		{name: "sourcegraph_token", typ: "SOURCEGRAPH_TOKEN", prefixes: []string{"sgp_"}, body: csAlnumUnd, min: 40, max: 57, score: 0.95,
			check: func(tok, b string, sc float64) float64 {
				if len(b) == 40 && allIn(b, csHex) {
					if shannon(b) < 3.2 { // random hex has about 3.8 bits a byte
						return 0
					}
					return sc
				}
				id, key, ok := strings.Cut(b, "_")
				if !ok || len(key) != 40 || !allIn(key, csHex) || !(id == "local" || (len(id) == 16 && allIn(id, csHex))) {
					return 0
				}
				return sc
			}},
		{name: "bedrock_api_key", typ: "AWS_BEDROCK_API_KEY", prefixes: []string{"ABSK"}, body: csB64Pad, min: 109, max: 272, score: 0.9},
	}
}

var csDigits = newCharset("0-9")

// allIn reports whether every byte of s is in cs.
func allIn(s string, cs *charset) bool {
	for i := 0; i < len(s); i++ {
		if !cs[s[i]] {
			return false
		}
	}
	return true
}

// hasClasses reports whether s mixes at least n of: lower case, upper case,
// digits, other bytes.
func hasClasses(s string, n int) bool {
	return charClasses(s) >= n
}

// charClasses counts the classes (lower, upper, digit, other) present in s.
func charClasses(s string) int {
	var lo, up, di, ot int
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isLower(c):
			lo = 1
		case isUpper(c):
			up = 1
		case isDigit(c):
			di = 1
		default:
			ot = 1
		}
	}
	return lo + up + di + ot
}

func checkAWSKeyID(tok, b string, sc float64) float64 {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c == '0' || c == '1' || c == '8' || c == '9' {
			return 0.85
		}
	}
	return sc
}

// checkSlack wants at least one '-'-separated group after the prefix, and
// rates the documented bot/user shapes (digit groups, then a random tail)
// highest.
func checkSlack(tok, b string, sc float64) float64 {
	groups := strings.Count(b, "-") + 1
	if groups < 2 || b[len(b)-1] == '-' || strings.Contains(b, "--") {
		return 0
	}
	last := b[strings.LastIndexByte(b, '-')+1:]
	if len(last) < 8 {
		return 0
	}
	first := b[:strings.IndexByte(b, '-')]
	if allIn(first, csDigits) && len(first) >= 1 && hasClasses(last, 2) {
		return 0.95
	}
	return sc
}

func checkOpenAI(tok, b string, sc float64) float64 {
	if strings.Contains(b, "T3BlbkFJ") {
		return 1.0
	}
	return sc
}

func checkLegacySK(tok, b string, sc float64) float64 {
	if len(b) == 48 && b[20:28] == "T3BlbkFJ" {
		return 0 // reported by openai_legacy_key
	}
	if !hasClasses(b, 2) || shannon(b) < 3.5 {
		return 0
	}
	return sc
}

// checkBraintree checks <env>$<16 [0-9a-z]>$<32 hex> after "access_token$".
func checkBraintree(tok, b string, sc float64) float64 {
	env, rest, ok := strings.Cut(b, "$")
	if !ok || (env != "production" && env != "sandbox") {
		return 0
	}
	id, key, ok := strings.Cut(rest, "$")
	if !ok || len(id) != 16 || len(key) != 32 || !allIn(key, csHexLower) || strings.IndexByte(id, '$') >= 0 {
		return 0
	}
	return sc
}

// gitlabLegacyLen is the body length of each GitLab token prefix's
// non-routable format (GitLab's "Token overview" documentation); 0 means
// any length from the rule's minimum. Feed tokens (glft-) and runner
// registration tokens (GR1348941) have 20 as well.
var gitlabLegacyLen = map[string]int{
	"glpat-": 20, "gldt-": 20, "glrt-": 20, "glptt-": 40, "glft-": 20, "glimt-": 25, "glsoat-": 20,
	"gloas-": 64, "glffct-": 20, "GR1348941": 20,
}

// checkGitLab accepts a GitLab token body of its prefix's legacy length,
// or in the routable format: a payload of 27 or more characters, '.',
// then a two-character version and a seven-character CRC in [0-9a-z].
func checkGitLab(tok, b string, sc float64) float64 {
	prefix := tok[:len(tok)-len(b)]
	if dot := strings.LastIndexByte(b, '.'); dot >= 27 {
		if tail := b[dot+1:]; len(tail) == 9 && allIn(tail, csLowerNum) {
			return sc
		}
		return 0
	}
	if strings.IndexByte(b, '.') >= 0 {
		return 0
	}
	if prefix == "glcbt-" { // CI job tokens: an optional partition id "<1-5 hex>_"
		if u := strings.IndexByte(b, '_'); u >= 1 && u <= 5 && allIn(b[:u], csHex) {
			b = b[u+1:]
		}
		if len(b) != 20 {
			return 0
		}
		return sc
	}
	if want := gitlabLegacyLen[prefix]; want != 0 && len(b) != want {
		return 0
	}
	return sc
}

var csLowerNum = newCharset("a-z0-9")

// checkSentryOrg wants a Sentry organization token's two parts: a base64
// JSON payload ("eyJ…", which names the issuing URL and org) and '_'
// with a 43-character base64 secret.
func checkSentryOrg(tok, b string, sc float64) float64 {
	u := strings.LastIndexByte(b, '_')
	if !strings.HasPrefix(b, "eyJ") || u < 0 || len(b)-u-1 != 43 || !allIn(b[u+1:], csB64) {
		return 0
	}
	return sc
}

// checkFlutterwave accepts an encryption key (12 hex) or a secret key
// (32 hex, "-X") after the FLWSECK prefixes.
func checkFlutterwave(tok, b string, sc float64) float64 {
	if len(b) == 12 && allIn(b, csHex) {
		return sc
	}
	if len(b) == 34 && strings.HasSuffix(b, "-X") && allIn(b[:32], csHex) {
		return sc
	}
	return 0
}
