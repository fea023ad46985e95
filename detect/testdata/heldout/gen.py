"""Builds ../heldout-shapes.jsonl, the held-out shapes corpus that
detect/heldout_test.go scores. Documents are written by hand with the
sensitive spans marked as ⟦TYPE|value⟧; values come from vals.py
(checksummed test values computed from first principles, no fake-data
library). Run: python3 gen.py ../heldout-shapes.jsonl
"""
import json, sys
from vals import *
import vals

def M(t, v): return '\u27e6' + t + '|' + v + '\u27e7'
def E(v): return M('EMAIL_ADDRESS', v)
def P(v): return M('PHONE_NUMBER', v)
def C(v): return M('CREDIT_CARD', v)
def S(v): return M('US_SSN', v)
def I(v): return M('IBAN_CODE', v)
def IP(v): return M('IP_ADDRESS', v)
def X(v): return M('CRYPTO', v)
def N(v): return M('PERSON', v)
def K(v): return M('SECRET', v)

def group(d, sizes, sep=' '):
    out, i = [], 0
    for s in sizes:
        out.append(d[i:i+s]); i += s
    if i < len(d): out.append(d[i:])
    return sep.join(out)
def g4(d, sep=' '): return sep.join(d[i:i+4] for i in range(0, len(d), 4))

docs = []
def D(s): docs.append(s)

# ======================= PHONE NUMBERS =======================
D(f"Call our London office on {P('+44 20 7946 0958')} if the courier is late.")
D(f"UK landline: {P('020 7946 0321')} (reception, 9am to 5pm).")
D(f"You can reach me on {P('+44 (0)20 7946 0112')} during UK hours.")
D(f"Mobile {P('07700 900461')} - text first, I rarely pick up unknown numbers.")
D(f"WhatsApp me at {P('+44 7700 900982')} when you land.")
D(f"Bitte rufen Sie uns an: {P('0049 30 123456')} oder schreiben Sie eine E-Mail.")
D(f"Telefon: {P('+49 30 12345678')}, Fax: {P('+49 30 12345679')}")
D(f"Zentrale Muenchen {P('+49 (0)89 2190 4410')} - Durchwahl 22")
D(f"Handy: {P('0151 23456789')}")
D(f"Pour toute question, appelez le {P('06 12 34 56 78')} ou passez en agence.")
D(f"Mon numéro de portable : {P('+33 6 12 34 56 78')}")
D(f"Standard : {P('01 42 68 53 00')} (tapez 2 pour le service client)")
D(f"tél. {P('01.42.68.53.00')}")
D(f"For Sydney bookings ring {P('(02) 9876 5432')} and ask for the duty manager.")
D(f"Aussie mobile: {P('0412 345 678')}")
D(f"Contact number {P('+61 2 9876 5432')}; after hours {P('+61 412 345 678')}.")
D(f"Tokyo office: {P('+81 3-1234-5678')}")
D(f"電話番号は{P('03-1234-5678')}です。")
D(f"携帯: {P('090-1234-5678')}")
D(f"Please call {P('+91 98765 43210')} to confirm the delivery slot.")
D(f"My cell is {P('+91-98765-43210')}, available after 6pm IST.")
D(f"Landline in Bengaluru: {P('080 2345 6789')}")
D(f"Ligue para {P('+55 11 91234-5678')} para falar com o suporte.")
D(f"Telefone comercial {P('(11) 3456-7890')}")
D(f"Llámame al {P('+34 612 34 56 78')} cuando puedas.")
D(f"Teléfono fijo: {P('912 345 678')}")
D(f"Per informazioni chiamare il numero {P('+39 06 6982 1234')}.")
D(f"Cellulare {P('+39 312 345 6789')}")
D(f"Bel ons op {P('+31 20 123 4567')} of stuur een bericht naar {P('06-12345678')}.")
D(f"Beijing hotline {P('+86 10 6552 9988')}, mobile {P('+86 138 0013 8000')}")
D(f"Ciudad de México: {P('+52 55 5123 4567')}")
D(f"Cape Town branch: {P('+27 21 123 4567')}")
D(f"Singapore desk {P('+65 6123 4567')} is staffed 24/7.")
D(f"Toronto: {P('+1 416-555-0187')}")
D(f"Call {P('+1 (212) 555-0143')} ext. 204 for billing questions.")
D(f"Support line {P('(415) 555-2671')} x12 - ask for Tier 2.")
D(f"Our main number is {P('650.253.0000')}.")
D(f"Phone: {P('1-800-275-2273')}")
D(f"reach me at {P('+14155552671')} (signal/whatsapp)")
D(f"E.164: {P('+4915123456789')}")
D(f"Dial {P('+353 1 234 5678')} for the Dublin team.")
D(f"Stockholm växel: {P('+46 8 123 456 78')}")
D(f"Warszawa, tel. {P('+48 22 123 45 67')}")
D(f"Zürich: {P('+41 44 668 18 00')}")
D(f"Wien Tel. {P('+43 1 5120 500')}")
D(f"Seoul office {P('+82 2-312-3456')}")
D(f"Hong Kong {P('+852 2123 4567')}")
D(f"Dubai mobile {P('+971 50 123 4567')}")
D(f"Lagos: {P('+234 803 123 4567')}")
D(f"Nairobi {P('+254 712 345678')}")
D(f"Auckland {P('+64 9 123 4567')}")
D(f"Buenos Aires {P('+54 11 4321-5678')}")
D("{\"name\": \"" + N('Oluwaseun Adebayo') + "\", \"phone\": \"" + P('+442079460958') + "\", \"country\": \"GB\"}")
D("{\"contact\": {\"mobile\": \"" + P('+33612345678') + "\", \"preferred\": true}}")
D("{\"id\": 4471, \"tel\": \"" + P('(503) 555-0178') + "\", \"status\": \"active\"}")
D("{\"user_id\": 88213, \"phone_number\": " + P('4155550132') + ", \"verified\": false}")
D(f"id,first_name,last_name,phone\n".replace("\n", " | ") + f"17,{N('Mei')},{N('Tanaka')},{P('+81 90-1234-5678')}")
D(f"name,email,phone: {N('Ravi Shankar')},{E('ravi.s@infra-labs.in')},{P('+91 98450 12345')}")
D(f"2025-03-02 14:11:09 WARN sms-gateway: delivery failed to={P('+447700900123')} code=30006")
D(f"INFO twilio callback From={P('+15017122661')} To={P('+15558675310')} Status=completed")
D(f"Emergency contact: {N('Hana Kobayashi')} (mother), {P('+81 80-9876-5432')}")
D(f"Fax: {P('+1 212 555 0190')}")
D(f"If urgent, ping me on {P('555-0134')}... just kidding, use {P('(617) 555-0109')}.")
D(f"Hotline (toll-free): {P('0800 123 4567')}")
D(f"Kundenservice {P('+49 40 3070 6000')} (Mo-Fr)")

# ======================= CREDIT CARDS =======================
D(f"Test card {C('4111 1111 1111 1111')} exp 12/29 CVV 123 failed with code 05.")
D(f"Charge it to my Visa {C('4012-8888-8888-1881')}, expiry 08/27.")
D(f"card: {C('5555555555554444')}")
D(f"Mastercard ending... actually full number is {C('5105 1051 0510 5100')}")
D(f"New MC range card {C('2223 0031 2200 3222')} declined.")
D(f"Amex {C('3782 822463 10005')} - please update the billing address.")
D(f"AMEX: {C('371449635398431')}")
D(f"Diners Club {C('3056 930902 5904')} expires next month.")
D(f"diners card {C('38520000023237')}")
D(f"Discover {C('6011 1111 1111 1117')}")
D(f"JCB test: {C('3530111333300000')}")
D(f"UnionPay card {C(group(luhn_complete('62', 19), [4,4,4,4,3]))} added to wallet.")
D(f"银联卡号 {C(luhn_complete('6212', 19))}")
D(f"Maestro {C(luhn_complete('5018', 12))} (12-digit) tokenization test")
D(f"Maestro UK {C('6759 6498 2643 8453')}")
D(f"Visa 13-digit legacy {C('4222222222222')}")
D("{\"payment\": {\"card_number\": " + C('4111111111111111') + ", \"exp_month\": 12, \"exp_year\": 2028}}")
D("{\"pan\": \"" + C('5555-5555-5555-4444') + "\", \"cvv\": \"737\"}")
D("{\"cc\": \"" + C('378282246310005') + "\", \"holder\": \"" + N('Emeka Nwosu') + "\"}")
D(f"2025-01-17T08:12:44Z ERROR payments: authorization declined pan={C('4000056655665556')} reason=insufficient_funds")
D(f"my credit card number is {C('4242 4242 4242 4242')} exp 04/30 cvc 314")
D(f"Kreditkarte: {C('5425 2334 3010 9903')}, gültig bis 11/26")
D(f"Numéro de carte : {C('4970 1012 3456 7893')}")
D(f"Card {C(group(luhn_complete('4', 16), [4,4,4,4], '-'))} was used at 03:14 UTC.")
D(f"customer,card,exp: {N('Sofia Marchetti')},{C(luhn_complete('5', 16).replace('5','5',1))},09/27")
D(f"Please refund the charge on {C(luhn_complete('37', 15))}.")
D(f"Visa Electron {C('4917 6100 0000 0000')} test")
D(f"card no. {C(luhn_complete('36', 14))} (Diners International)")

# ======================= SSN =======================
D(f"SSN {S('536228471')} on the W-2 does not match our records.")
D(f"Social security number: {S('536 22 8471')}")
D(f"ssn={S('412-67-3390')} dob=1984-02-11")
D("{\"employee\": {\"name\": \"" + N('Darnell Washington') + "\", \"ssn\": \"" + S('219-44-7812') + "\"}}")
D(f"My SSN is {S('301-55-9926')}, can you fill out the form for me?")
D(f"Taxpayer SSN: {S('482 91 3307')}.")
D(f"SS# {S('623-18-4450')}")
D(f"social: {S('571-32-6684')}")
D(f"Applicant's social security no. is {S('144-72-9021')} and DOB 03/11/1979.")
D("{\"tin_type\": \"SSN\", \"tin\": \"" + S('398527741') + "\"}")
D(f"last 4 of SSN only please (e.g. ***-**-1234), never the full {S('509-61-2245')}")
D(f"SSN: {S('667-21-0493')}")
D(f"patient ssn {S('208 61 5573')} verified")

# ======================= IBAN =======================
D(f"Please wire the deposit to {I('GB82 WEST 1234 5698 7654 32')}.")
D(f"IBAN: {I('DE89 3704 0044 0532 0130 00')}, BIC COBADEFFXXX")
D(f"Mon IBAN est {I('FR14 2004 1010 0505 0001 3M02 606')}.")
D(f"Transferencia a {I('ES91 2100 0418 4502 0005 1332')}, concepto: alquiler.")
D(f"Rekeningnummer {I('NL91ABNA0417164300')}")
D(f"iban {I('be68 5390 0754 7034')} (lower case from a form)")
D(f"Swiss account {I('CH93 0076 2011 6238 5295 7')}.")
D(f"Bonifico su {I('IT60 X054 2811 1010 0000 0123 456')}; causale fattura 2024/118.")
D(f"AT IBAN: {I('AT611904300234573201')}")
D(f"Kontonummer {I('SE45 5000 0000 0583 9825 7466')}")
D(f"Norwegian IBAN {I('NO9386011117947')}, thanks!")
D(f"Danish: {I('DK5000400440116243')}.")
D(f"FI: {I('FI21 1234 5600 0007 85')}")
D(f"Przelew na {I('PL61 1090 1014 0000 0712 1981 2874')}")
D(f"NIB/IBAN {I('PT50 0002 0123 1234 5678 9015 4')}")
D(f"Irish account {I('IE29 AIBK 9311 5212 3456 78')}")
D(f"LU IBAN {I('LU28 0019 4006 4475 0000')}")
D(f"Saudi IBAN {I('SA03 8000 0000 6080 1016 7519')}")
D(f"UAE: {I('AE070331234567890123456')}")
D(f"TR IBAN {I('TR33 0006 1005 1978 6457 8413 26')}")
D(f"Conta {I('BR9700360305000010009795493P1')}")
D(f"Malta {I('MT84 MALT 0110 0001 2345 MTLC AST0 01S')}")
D(f"Greek IBAN {I('GR16 0110 1250 0000 0001 2300 695')}")
D(f"CZ: {I('CZ65 0800 0000 1920 0014 5399')}")
D(f"HU: {I('HU42 1177 3016 1111 1018 0000 0000')}")
D(f"Cont {I('RO49 AAAA 1B31 0075 9384 0000')}")
D(f"Israeli IBAN {I('IL62 0108 0000 0009 9999 999')}")
D(f"Kuwait {I('KW81 CBKU 0000 0000 0000 1234 5601 01')}")
D(f"Qatar IBAN: {I('QA58 DOHB 0000 1234 5678 90AB CDEF G')}")
D(f"Ukraine: {I('UA21 3223 1300 0002 6007 2335 6600 1')}")
D("{\"beneficiary\": \"" + N('Ana Lucía Paredes') + "\", \"iban\": \"" + I('ES7921000813610123456789') + "\"}")
D(f"Send the refund to IBAN {I('GB33BUKB20201555555555')}; reference INV-2291.")
D(f"IBAN (with dashes): {I('DE89-3704-0044-0532-0130-00')}")
D(f"The account {I('FR7630006000011234567890189')}, held at Crédit Agricole, is closed.")
D(f"Payee: {N('Henrik Larsen')}, IBAN {I('DK9520000123456789')}")
D(f"iban:{I('nl02abna0123456789')}")

# ======================= IP ADDRESSES =======================
D(f"Server listening on {IP('10.20.30.40')}:8443")
D(f"curl http://{IP('192.168.1.10')}:8080/health returned 503")
D(f"allow from {IP('10.0.0.0')}/8 and {IP('172.16.0.0')}/12")
D(f"Failed password for root from {IP('198.51.100.23')} port 22 ssh2")
D(f"{IP('203.0.113.9')} - - [10/Oct/2024:13:55:36 +0000] \"GET /index.html HTTP/1.1\" 200 2326")
D(f"X-Forwarded-For: {IP('203.0.113.7')}, {IP('198.51.100.2')}")
D(f"ping {IP('2001:db8::1')} works but {IP('2001:db8:85a3::8a2e:370:7334')} times out")
D(f"Connect to [{IP('2001:db8::42')}]:443 over TLS.")
D(f"IPv4-mapped: {IP('::ffff:192.0.2.128')}")
D(f"link-local {IP('fe80::1ff:fe23:4567:890a%eth0')} on the LAN")
D(f"https://{IP('93.184.216.34')}/login?next=/admin")
D(f"DNS servers: {IP('8.8.8.8')}, {IP('1.1.1.1')}")
D(f"ip addr shows inet {IP('172.17.0.2')}/16 brd {IP('172.17.255.255')} scope global eth0")
D("{\"client_ip\": \"" + IP('100.64.12.7') + "\", \"status\": 403}")
D("{\"src\": \"" + IP('2a00:1450:4001:82b::200e') + "\", \"dst\": \"" + IP('10.1.2.3') + "\"}")
D(f"level=warn msg=\"rate limited\" remote_addr={IP('45.33.32.156')}:51234")
D(f"Full IPv6 {IP('2001:0db8:0000:0000:0000:ff00:0042:8329')}")
D(f"Blocked {IP('185.220.101.4')} (tor exit) at the WAF.")
D(f"VPN gateway is {IP('vpn')[0:0]}{IP('91.198.174.192')}")
D(f"route add default gw {IP('192.0.2.1')}")
D(f"Loopback {IP('::1')} and {IP('127.0.0.1')}")

# ======================= EMAILS =======================
D(f"Send it to {E('jane.doe+newsletter@gmail.com')} please.")
D(f"From: {N('Ingrid Bergström')} <{E('ingrid.bergstrom@mail.nordvik.se')}>")
D(f"To: \"{N('Kofi Annan-Boateng')}\" <{E('kofi@accra-logistics.com.gh')}>")
D(f"<a href=\"mailto:{E('sales@acme-widgets.co.uk')}\">Email sales</a>")
D(f"mailto:{E('support@example.com')}?subject=Refund")
D(f"Contact {E('first.last@sub.dept.university.edu')} for transcripts.")
D(f"JOHN.O'REILLY@CONTOSO.COM wrote the spec".replace("JOHN.O'REILLY@CONTOSO.COM", E("JOHN.O'REILLY@CONTOSO.COM")))
D(f"reply-to: {E('no-reply@notifications.github.com')}")
D(f"Her address: {E('maria_garcia84@yahoo.es')}.")
D(f"(cc {E('ops-team@internal.corp')})")
D(f"user={E('a.nguyen@startup.io')} action=login result=success")
D("{\"email\": \"" + E('wei.zhang@163.com') + "\", \"verified\": true}")
D(f"Ping {E('dev@xn--mnchen-3ya.de')} about the punycode domain.")
D(f"Email me: {E('björn@köln.de')}")
D(f"Send to {E('user@example.com')} (placeholder in docs).")
D(f"test account {E('test.user+qa1@example.org')}")
D(f"[{E('alerts@pagerduty.com')}] Incident #4521 triggered")
D(f"Write to {E('privacy@bank.com.au')}, or call us.")
D(f"Her work email is {E('s.okonkwo@unilag.edu.ng')}, personal {E('sokonkwo@outlook.com')}")

# ======================= CRYPTO =======================
D(f"Send 0.05 BTC to {X('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa')}")
D(f"Donations: {X(btc_p2pkh())}")
D(f"P2SH multisig {X(btc_p2sh())}")
D(f"My segwit address is {X(bc1q())}.")
D(f"bech32: {X('bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq')}")
D(f"Taproot: {X(bc1p())}")
D(f"P2WSH {X(bc1q32())}")
D(f"ETH wallet {X(eth_checksum())}")
D(f"Please pay to {X(eth_lower())} on Arbitrum.")
D(f"USDT (ERC-20): {X(eth_checksum())}")
D("{\"wallet\": \"" + X(eth_checksum()) + "\", \"chain\": \"ethereum\"}")
D(f"Litecoin: {X(ltc_legacy())}")
D(f"LTC address {X(ltc_p2sh())}")
D(f"ltc segwit {X(ltc1())}")
D(f"withdraw to {X(bc1q())} asap")
D(f"contract 0x ... {X(eth_checksum())} verified on Etherscan")
D(f"Pay {X(btc_p2pkh())} (BTC) or {X(eth_checksum())} (ETH).")

# ======================= SECRETS =======================
aid = aws_id()
D(f"AWS_ACCESS_KEY_ID={K(aid)}")
D(f"aws_secret_access_key = {K(aws_secret())}")
D(f"[default]\\naws_access_key_id = {K(aws_id())}\\naws_secret_access_key = {K(aws_secret())}")
D(f"export GITHUB_TOKEN={K(ghp())}")
D(f"git clone https://{K(ghp())}@github.com/acme/infra.git")
D(f"Fine-grained token: {K(github_pat())}")
D(f"SLACK_BOT_TOKEN={K(slack('xoxb-'))}")
D(f"slack user token {K(slack('xoxp-'))} leaked in #general")
D(f"stripe.api_key = \"{K(stripe())}\"")
D(f"STRIPE_SECRET_KEY={K(stripe_long())}")
D(f"OPENAI_API_KEY={K(openai_proj())}")
D(f"client = OpenAI(api_key=\"{K(openai_proj())}\")")
D(f"ANTHROPIC_API_KEY={K(anthropic())}")
D(f"x-api-key: {K(anthropic())}")
D(f"Authorization: Bearer {K(jwt({'sub': '1234567890', 'name': 'svc-ingest', 'iat': 1716239022}))}")
D(f"curl -H \"Authorization: Bearer {K(rs(A62, 40))}\" https://api.internal/v2/jobs")
D(f"token: {K(jwt({'sub': 'u_8812', 'role': 'admin', 'exp': 1893456000}))}")
pb = pem_body(3)
D(f"{K('-----BEGIN RSA PRIVATE KEY-----' + ''.join(chr(92)+'n'+l for l in pb) + chr(92)+'n-----END RSA PRIVATE KEY-----')}")
pb = pem_body(2)
D("{\"type\": \"service_account\", \"private_key\": \"" + K('-----BEGIN PRIVATE KEY-----\\n' + '\\n'.join(pb) + '\\n-----END PRIVATE KEY-----\\n') + "\", \"client_email\": \"" + E('svc@proj-4412.iam.gserviceaccount.com') + "\"}")
pb = pem_body(2)
D(f"{K('-----BEGIN OPENSSH PRIVATE KEY----- ' + ' '.join(pb) + ' -----END OPENSSH PRIVATE KEY-----')}")
D(f"DATABASE_URL=postgres://app_user:{K(password(16))}@db.prod.internal:5432/orders")
D(f"mongodb+srv://admin:{K(password(12))}@cluster0.x1y2z.mongodb.net/test?retryWrites=true")
D(f"mysql://root:{K('S3cr3t!Pass2024')}@10.0.4.5:3306/shop".replace('10.0.4.5', IP('10.0.4.5')))
D(f"redis://:{K(rs(A62, 24))}@cache.internal:6379/0")
D(f"password={K('Tr0ub4dor&3xyz')}")
D(f"DB_PASSWORD={K(password(18))}")
D(f"  password: {K(password(20))}")
D(f"spring.datasource.password={K(password(14))}")
D("{\"username\": \"deploy\", \"password\": \"" + K(password(16)) + "\"}")
D(f"my password is {K('correct-horse-battery-staple-42')} lol don't tell anyone")
D(f"Your temporary password is {K('Xk9#mP2vLq')} - change it at first login.")
D(f"GOOGLE_API_KEY={K(gcp_key())}")
D(f"gitlab token {K(glpat())}")
D(f"HF_TOKEN={K(hf())}")
D(f"//registry.npmjs.org/:_authToken={K(npm())}")
D(f"api_key: \"{K(rs(A62, 32))}\"")
D(f"SECRET_KEY = '{K(rs(A62 + '!@#$%^&*(-_=+)', 50))}'")
D(f"client_secret={K(rs(A62 + '~._-', 34))}")
D(f"webhook: https://hooks.slack.com/services/{K('T' + rs('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 8) + '/B' + rs('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 8) + '/' + rs(A62, 24))}")
D(f"Authorization: Basic {K(base64.b64encode(b'admin:' + password(12).encode()).decode())}")
D(f"-e POSTGRES_PASSWORD={K(password(15))} -p 5432:5432 postgres:16")
D(f"sk_test key for staging: {K(stripe('sk_test_'))}")

# ======================= PERSONS =======================
persons_prose = [
    ("Please schedule a call with {} next Tuesday.", "Wang Fang"),
    ("Minutes taken by {}.", "Li Wei"),
    ("The report was reviewed by {} and approved.", "Zhang Xiaoming"),
    ("Forward this to {}, she owns the budget.", "Chen Jing"),
    ("Translator: {}", "Yuki Tanaka"),
    ("{} will present the Q3 numbers.", "Hiroshi Yamamoto"),
    ("Ask {} about the Osaka shipment.", "Sakura Watanabe"),
    ("Interview notes - candidate {}", "Kim Min-jun"),
    ("{} joined the Seoul team in March.", "Park Ji-woo"),
    ("Assigned to {} for review.", "Lee Seo-yeon"),
    ("Dr. {} will see you at 10:30.", "Amara Okafor"),
    ("Our CFO, {}, signed off on it.", "Mohammed Al-Rashid"),
    ("Thanks to {} for the translation.", "Fatima Al-Zahra"),
    ("Meeting with {} re: the Amman contract.", "Omar Haddad"),
    ("Please add {} to the distribution list.", "Priya Raghunathan"),
    ("{} from the Chennai office called twice.", "Arjun Venkataraman"),
    ("Escalated by {} on Friday.", "Ananya Iyer"),
    ("Contract owner: {}", "Rohan Mehta"),
    ("{} approved the PTO request.", "Sunita Deshpande"),
    ("Our landlord {} wants the keys back.", "Dmitri Volkov"),
    ("The invoice was issued to {}.", "Katarzyna Nowak"),
    ("Technical contact: {}", "Jiří Dvořák"),
    ("Spoke with {} about the Kyiv office lease.", "Olena Shevchenko"),
    ("Hi {}, thanks for the quick turnaround.", "Milica"),
    ("Case officer: {}", "María José García Márquez"),
    ("The tenant, {}, paid late again.", "Juan Carlos Rodríguez López"),
    ("cc {} and the legal team", "Lucía Fernández de la Vega"),
    ("{} is out until the 14th.", "Siobhán O'Sullivan"),
    ("Please loop in {}.", "Declan McCarthy"),
    ("Reviewer: {}", "Anna-Lena Schmidt-Weber"),
    ("Bonjour {}, voici le devis.", "Jean-Pierre Dubois"),
    ("Packing list checked by {}.", "J. R. Smith"),
    ("Signed, {}", "Kwame Mensah"),
    ("Introduce yourself to {}, our new SRE.", "Ngozi Adeyemi"),
    ("{} (Harare) sent the customs forms.", "Tendai Moyo"),
    ("Driver: {}", "Wanjiru Kamau"),
    ("Patient: {}, 54, presenting with chest pain.", "Nguyen Van An"),
    ("Nurse {} took the vitals.", "Tran Thi Mai"),
    ("Sayın {}, başvurunuz alınmıştır.", "Mehmet Yılmaz"),
    ("Customer {} requested a callback.", "Ayşe Demir"),
    ("{} has been promoted to staff engineer.", "Reza Tehrani"),
    ("Ping {} about the Tehran visa letter.", "Shirin Karimi"),
    ("Author: {}", "Sigríður Jónsdóttir"),
    ("Prepared by {} (Oslo)", "Lars Øberg"),
    ("Shalom {}, the documents are attached.", "Noa Levi"),
    ("{} will cover the on-call shift.", "Avi Cohen"),
    ("Account manager: {}", "Nikos Papadopoulos"),
    ("O cliente {} pediu reembolso.", "João Pedro Ferreira"),
    ("Gentile {}, la sua richiesta è stata accolta.", "Giulia Bianchi"),
    ("{} confirmed the booking.", "Lorenzo Esposito"),
    ("Chère {}, merci pour votre retour.", "Élodie Martin"),
    ("Sehr geehrter Herr {}, vielen Dank.", "Jürgen Bäcker"),
    ("Frau {} ist ab Montag im Urlaub.", "Friederike Hoffmann"),
    ("Beste {}, hierbij de offerte.", "Sanne de Vries"),
    ("Owner of the repo is {}.", "Pieter van der Berg"),
    ("{} from Manila handles APAC tickets.", "Maricel Santos"),
    ("Khun {} approved the vendor.", "Somchai Wongsawat"),
    ("Emailed {} yesterday, no reply.", "Chukwuemeka Obi"),
    ("Ask {} - she wrote the original design.", "Aroha Ngata"),
    ("The deed lists {} as co-owner.", "Bartholomew Fitzgerald-Hughes"),
    ("Visa applicant: {}", "Abdullah bin Salman Al-Harbi"),
    ("Prof. {} will chair the panel.", "Haruki Matsumoto"),
    ("Mrs. {} called about her order.", "Adaeze Chukwu"),
    ("{} left a 1-star review.", "Bongani Dlamini"),
    ("Handover from {} to the night shift.", "Thandiwe Nkosi"),
    ("Recruiter {} sent three profiles.", "Valentina Rossi"),
    ("{} is the named insured.", "Ioana Popescu"),
    ("Photo credit: {}", "Aleksandra Kowalczyk"),
    ("Tech lead {} is on parental leave.", "Mateus Oliveira"),
    ("{} and {} will co-host.", None),
]
for tpl, name in persons_prose:
    if name is None:
        D(tpl.format(N("Ifeoma Eze"), N("Tomasz Wiśniewski")))
    else:
        D(tpl.format(N(name)))

D(f"Best,\\n{N('Tomás')}")
D(f"Thanks again,\\n{N('Ngozi')}\\nHead of Operations")
D(f"Cheers, {N('Liam')}")
D(f"-- \\n{N('Aiko Suzuki')} | Product Manager | +81 3-5555-0134".replace('+81 3-5555-0134', P('+81 3-5555-0134')))
D("{\"ticket\": 4512, \"assignee\": \"" + N('Vikram Chaudhary') + "\", \"priority\": \"high\"}")
D("{\"reporter\": \"" + N('Hyun-woo Choi') + "\", \"summary\": \"Login page 500s\"}")
D("{\"owner\": {\"displayName\": \"" + N('Layla Nasser') + "\", \"login\": \"lnasser\"}}")
D("{\"author\": \"" + N('Youssef El-Amin') + "\", \"commit\": \"9fceb02d0ae598e95dc970b74767f19372d61af8\"}")
D("{\"first_name\": \"" + N('Chidi') + "\", \"last_name\": \"" + N('Eze') + "\", \"age\": 41}")
D("{\"patient\": {\"given\": \"" + N('Aleksandr') + "\", \"family\": \"" + N('Petrov') + "\"}}")
D(f"talked to {N('priya')} yesterday, she said the build is fine")
D(f"lol {N('kenji')} broke prod again")
D(f"can u send this to {N('mohammed')} before 5")
D(f"my name is {N('li na')} and I need help with my order")
D(f"name: {N('olga ivanova')}")
D(f"Patient name: {N('GARCIA, MARIA ELENA')}")
D(f"Signed by {N('A. K. Mehta')} on behalf of the board.")
D(f"Rev. {N('Desmond Tutu')} gave the address.".replace('Desmond Tutu','Samuel Adeyemi-Cole'))
D(f"{N('Zhou Yu')}: can you review PR #4412?")
D(f"[10:42] <{N('Ahmed Khalil')}> the deploy is stuck")
D(f"Approved: {N('M. Hernández')}")
D(f"{N('Nakamura Kenji')} (family name first) is the contact in Kyoto.")
D(f"Meeting notes: attendees {N('Fatou Diallo')}, {N('Sipho Ndlovu')}, {N('Erik Johansson')}")
D(f"Spoke to {N('Dr Chen')} this morning.")
D(f"Ms {N('Okafor')} requested her records.")
D(f"Thank you, {N('Mr. Yamamoto')}.")
D(f"The witness, {N('Alejandro Gómez-Ruiz')}, was not available.")
D(f"Дмитрий пишет: contact {N('Дмитрий Волков')} for keys".replace('Дмитрий пишет: ', ''))

# ======================= HARD NEGATIVES =======================
neg = [
    "Order #4815162342 has shipped.",
    "Invoice INV-2024-000123 is overdue by 14 days.",
    "Tracking number 1Z999AA10123456784 (UPS).",
    "FedEx tracking 7489 2751 3301",
    "USPS: 9400 1000 0000 0000 0000 00",
    "ISBN 978-3-16-148410-0",
    "ISBN-10: 0-306-40615-2",
    "Request 3f2504e0-4f89-11d3-9a0c-0305e82c3301 failed after 3 retries.",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 reverted the change",
    "Upgrade to v2.14.3 before Friday; 2.14.2 has the bug.",
    "Build 10.0.19045.2965 of Windows is affected.",
    "Deployed at 2024-03-15T10:22:31Z, rolled back at 2024-03-15T10:41:02.553Z.",
    "epoch=1718031234 duration_ms=48213",
    "Card-like number 4111 1111 1111 1112 fails Luhn.",
    "Account ref 1234567890123456 (internal, not a card).",
    "Invoice no. 2024-555-0199 for consulting.",
    "May I ask a question about the roadmap?",
    "Will this work on Windows?",
    "Bill the customer for the extra hours.",
    "Grace period ends on Monday.",
    "Amber alerts are enabled for the warehouse.",
    "Hope you are well. Faith in the process!",
    "Mark the ticket as resolved.",
    "Rose gold is the most popular colour.",
    "Summer sale starts in June.",
    "Paris and Berlin were the top markets last quarter.",
    "We are opening offices in San Francisco, New York and Sydney.",
    "Visual Studio Code crashed when I opened the project.",
    "Microsoft Teams and Google Chrome need updating.",
    "Apple Pay is accepted at checkout.",
    "Amazon Web Services outage in us-east-1.",
    "Jordan, Georgia and Chad are countries.",
    "Hello World example in Go.",
    "Quick Start Guide for Warden Gateway",
    "Thank You for your purchase!",
    "Dear Customer, your order is on its way.",
    "The Golden Gate Bridge was fogged in.",
    "See section 4.2.1.3 of the spec.",
    "Temperature 21.5 C, humidity 40%.",
    "Price: $1,299.99 (was $1,499.99)",
    "Call me maybe.",
    "Room 1204, Building 7.",
    "SKU 00012345678905",
    "The meeting is at 10:30 in room B-204.",
    "Use the SHA-256 digest e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.",
    "tx hash 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 confirmed",
    "Placeholder key: YOUR_API_KEY_HERE",
    "password: ******** (redacted)",
    "Set password= in the config to enable auth.",
    "export AWS_ACCESS_KEY_ID=<your-access-key-id>",
    "The token expired; please request a new one.",
    "Model gpt-4o-2024-08-06 returned 429.",
    "Kubernetes v1.29.3 with containerd 1.7.13",
    "Coordinates 48.8584, 2.2945",
    "Error code 0x80070005 (access denied).",
    "Serial no. SN-8842-1193-5521",
    "Lot 2024/11/25-A expires 2026.",
    "Patch Tuesday is the second Tuesday.",
    "Berlin Marathon 2025 results",
    "Netflix, Spotify and Disney Plus raised prices.",
    "Reading Festival tickets go on sale.",
    "Phone: (not provided)",
    "Call extension 4412 for IT.",
    "Chapter 11 bankruptcy filing",
    "Table 3.2.1.1 shows the breakdown.",
    "ID 550e8400-e29b-41d4-a716-446655440000",
    "MAC aa:bb:cc:dd:ee:ff is not an IP.",
    "Regex ^[a-z]+@[a-z]+\\.com$ for validation",
    "Version 3.10.12 of Python.",
    "ratio 16:9, time 12:30:45",
    "std::vector<int> and HashMap::new()",
    "Pay $50 by Friday.",
    "North Star metric is weekly active users.",
    "Sterling Silver Necklace, 18 inch",
    "Victoria Falls trip planning",
    "Long Island Rail Road delays",
    "The President met the Prime Minister.",
    "Happy Birthday!",
    "Stay Hungry, Stay Foolish",
    "Order 20240315-00042 ready for pickup.",
    "Account number 00012345 at branch 402.",
    "Ticket JIRA-4412 is blocked by OPS-118.",
    "The Rust crate serde 1.0.197",
    "Use port 5432 for Postgres and 6379 for Redis.",
    "Zip code 94103",
    "Population 8,336,817 (2022).",
    "Flight LH 400 departs at 17:55.",
]
for n in neg:
    D(n)

# ======================= MIXED =======================
D(f"Hi {N('Tomasz')}, your new account is ready. Login: {E('t.wisniewski@fabryka.pl')}, temporary password {K('Wq7!zRt2Lp')}.")
D(f"Customer {N('Kateryna Bondarenko')} ({E('kbondarenko@ukr.net')}, {P('+380 44 123 4567')}) disputes charge on card {C('4111 1111 1111 1111')}.")
D(f"Refund of EUR 420.00 to {N('Matteo Ricci')}, IBAN {I('IT60X0542811101000000123456')}, ref. RMA-2231.")
D(f"New hire onboarding: {N('Aisha Bello')}, SSN {S('345-67-8123')}, start date 2025-04-01, phone {P('(312) 555-0177')}.")
D(f"ALERT {IP('203.0.113.50')} attempted login as {E('admin@corp.example.net')} 14 times")
D(f"Donate BTC: {X(bc1q())} | ETH: {X(eth_checksum())} | contact {E('donate@freedomfund.org')}")
D(f"Dear {N('Mr. Oyelaran')}, your loan application #88213 was received. Call {P('+234 1 271 0000')} with questions.")
D(f"Employee record: {N('Hamid Rezaei')}; ssn {S('412 58 9931')}; card {C('5555 5555 5555 4444')}; ip {IP('10.12.0.77')}")
D("{\"user\": {\"name\": \"" + N('Saanvi Kapoor') + "\", \"email\": \"" + E('saanvi.k@pm.me') + "\", \"phone\": \"" + P('+91 99876 54321') + "\"}, \"ip\": \"" + IP('49.36.12.200') + "\"}")
D(f"{N('Yerlan Abenov')} sent {E('yerlan@kaspi.kz')} an invoice for 120000 KZT to {I('KZ86125KZT5004100100')}.")
D(f"From the Almaty office: {N('Dinara Sultanova')}, tel {P('+7 727 258 0000')}.")
D(f"Please verify {N('Björn Åkesson')}'s identity: SSN {S('201-45-8893')}.")
D(f"git remote set-url origin https://oauth2:{K(glpat())}@gitlab.com/team/app.git")
D(f"ssh deploy@{IP('192.0.2.44')} -i ~/.ssh/id_ed25519")


# Number strings that national phone formats must not take (added while
# tuning the national-format rules).
for n in [
    "Account 0123 4567 89 at branch 12.",
    "Meeting on 03.04.2024 10:30 in room 2.",
    "Dates: 2024 01 15 and 2024 02 20",
    "Sort code 20-32-06, account 13071472.",
    "Batch 06-2024-115 recalled.",
    "Serial 0456 7890 1234",
    "Zip 02139 and 10001.",
    "Order 012345678 shipped.",
    "version 01.02.03.04.05 released",
    "Build 0.9.12345678",
    "ISBN 0-306-40615-2",
    "Tax year 2023/24 ref 0100 2233 44",
    "routing number 011000015 for the wire",
    "Transaction 0011223344556677 settled.",
    "GTIN 05012345678900",
]:
    D(n)

# ======================= WRITTEN AFTER TUNING =======================
# Added after the detector was tuned on the documents above, to estimate
# how the fixes generalise; not tuned on.
D(f"Please call {N('Ewa Zielińska')} at {P('+48 601 234 567')} about the lease.")
D(f"Numer telefonu: {P('22 628 14 55')}")
D(f"Ring the Leeds office on {P('0113 496 0000')}.")
D(f"Tel.: {P('089 12345678')}")
D(f"Mobiel: {P('06 1234 5678')}")
D(f"Contact {N('Thabo Mokoena')} on {P('082 123 4567')} (South Africa).")
D(f"Office phone {P('(03) 9123 4567')} - Melbourne")
D(f"Telefono ufficio {P('02 8901 2345')}")
D(f"Appelez-moi au {P('07 81 23 45 67')}")
D(f"WhatsApp: {P('+62 812-3456-7890')}")
D(f"Phone (Manila): {P('+63 917 123 4567')}")
D(f"call {P('+1 604 555 0162')} (Vancouver)")
D(f"Tel {P('+41 (0)44 668 18 00')}")
D(f"Shipment 2024-11-05 12:00 confirmed; ref 4471-220019.")
D(f"Meeting ID 845 2271 9930, passcode 771204")
D(f"Card {C('5200 8282 8282 8210')} was flagged.")
D(f"amex card {C('3714 496353 98431')}")
D(f"IBAN {I('CH56 0483 5012 3456 7800 9')}")
D(f"iban: {I('gb29nwbk60161331926819')}")
D(f"Send to {I('SI56 2633 0001 2039 086')}.")
D(f"My SSN is {S('078-12-3344')}.")
D(f"SSN (no dashes) {S('221334455')}")
D(f"Email {E('léa.dupont@orange.fr')} or {E('contact@société.fr')}")
D(f"From: {N('Kaito Mori')} <{E('k.mori@tokyo-dev.jp')}>")
D(f"ssh admin@{IP('198.51.100.77')}")
D(f"upstream {IP('10.8.0.12')}:9000 max_fails=3")
D(f"see Fig. 2.1.3.4 for details")
D(f"addr {IP('fd00:1234:5678::2')}")
D(f"BTC {X(bc1q())} or LTC {X(ltc1())}")
D(f"Sent to {X(eth_checksum())} yesterday")
D(f"GH_TOKEN={K(ghp('gho_'))}")
D(f"\"Authorization\": \"Bearer {K(rs(A62, 48))}\"")
D(f"postgresql://analytics:{K(password(14))}@warehouse.internal/metrics")
D(f"Thanks {N('Oksana')}!")
D(f"Regards,\\n{N('Pradeep Kumar')}")
D(f"Dear {N('Ms. Achterberg')},")
D(f"{N('Fernando Alonso Díaz')} called about the invoice.")
D(f"Reviewed-by: {N('Hye-jin Kang')} <{E('hyejin.kang@samsung.example')}>")
D(f"Owner: {N('Bogdan Kovalenko')}")
D(f"{N('Li Na')} and {N('Sun Yang')} are presenting.")
D(f"Sincerely, {N('Adebayo Ogunleye')}")
D(f"We met {N('Sven Lindqvist')} in Malmö.")
D("{\"customer_name\": \"" + N('Nomvula Zulu') + "\", \"city\": \"Durban\"}")
D(f"Professor {N('Yusuf Demir')} approved the thesis.")
D(f"May the best team win.")
D(f"Will Smith's new film is out.".replace('Will Smith', N('Will Smith')))
D(f"Lincoln Center hosts the gala.")
D(f"Jackson Hole is lovely in winter.")
D(f"Victoria Station at 8am.")
D(f"Order 8802331190 shipped via DHL 1234567890.")
D(f"Version 4.19.2.1 deployed.")
D(f"Invoice total 1 234 567,89 EUR")
D(f"Call ID 0112233445 for reference")

out = open(sys.argv[1], 'w', encoding='utf-8')
import re
pat = re.compile('\u27e6([A-Z_]+)\\|(.*?)\u27e7')
for raw in docs:
    text = ''
    spans = []
    pos = 0
    for m in pat.finditer(raw):
        text += raw[pos:m.start()]
        b = len(text.encode('utf-8'))
        text += m.group(2)
        e = len(text.encode('utf-8'))
        if e > b:
            spans.append({"type": m.group(1), "start": b, "end": e})
        pos = m.end()
    text += raw[pos:]
    assert '\n' not in text, raw
    for sp in spans:
        if sp['type'] == 'IBAN_CODE':
            v = text.encode()[sp['start']:sp['end']].decode().replace('-', '')
            assert iban_ok(v), v
        if sp['type'] == 'CREDIT_CARD':
            v = ''.join(c for c in text.encode()[sp['start']:sp['end']].decode() if c.isdigit())
            assert luhn_ok(v), v
    out.write(json.dumps({"text": text, "spans": spans}, ensure_ascii=False) + '\n')
print(len(docs), 'docs', sum(1 for _ in []))
