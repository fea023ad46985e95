#!/usr/bin/env python3
"""Writes names-prose.jsonl beside this file (see TestNamesProse). Run it after editing cases."""
import json, os
# (text, [(type, substring)]) -- written for Warden from general knowledge.
cases = [
 ("Hi, my name is Rubija and I need to change my address.", [("PERSON","Rubija")]),
 ("Her name is Oyelaran and she starts Monday.", [("PERSON","Oyelaran")]),
 ("Please call me Tadeusz, not Mr. Nowicki.", [("PERSON","Tadeusz"),("PERSON","Mr. Nowicki")]),
 ("I'm Priya, the new account manager.", [("PERSON","Priya")]),
 ("This is Marcus from the billing team.", [("PERSON","Marcus")]),
 ("Nicole: did the package arrive?\nAgent: yes, on Tuesday.\nNicole: great, thanks!", [("PERSON","Nicole"),("PERSON","Nicole")]),
 ("[09:14] Ahmed: the invoice is wrong\n[09:15] Support: checking now", [("PERSON","Ahmed")]),
 ("They call me Mrs. June at the school.", [("PERSON","Mrs. June")]),
 ("Ask Dr. Okonkwo-Baptiste about the scan.", [("PERSON","Dr. Okonkwo-Baptiste")]),
 ("Send the contract to Ingrid Solberg and Tomasz Wójcik by Friday.", [("PERSON","Ingrid Solberg"),("PERSON","Tomasz Wójcik")]),
 ("The parcel goes to Hauptstraße 17, 80331 München.", [("LOCATION","Hauptstraße 17, 80331 München")]),
 ("Our office moved to Calle de Alcalá 45, 28014 Madrid last spring.", [("LOCATION","Calle de Alcalá 45, 28014 Madrid")]),
 ("Deliver to Via Torino 22, 20123 Milano, Italia.", [("LOCATION","Via Torino 22, 20123 Milano, Italia")]),
 ("Mail it to 27 rue du Faubourg Saint-Honoré, 75008 Paris.", [("LOCATION","27 rue du Faubourg Saint-Honoré, 75008 Paris")]),
 ("The address is Prinsengracht 263, 1016 GV Amsterdam.", [("LOCATION","Prinsengracht 263, 1016 GV Amsterdam")]),
 ("Billing address:\n42 Wallaby Way\nSydney NSW 2000\nAustralia", [("LOCATION","42 Wallaby Way\nSydney NSW 2000\nAustralia")]),
 ("Ship to 500 Terry Francine St, San Francisco, CA 94158.", [("LOCATION","500 Terry Francine St, San Francisco, CA 94158")]),
 ("He lives at 8 Rua das Flores, 4050-262 Porto.", [("LOCATION","8 Rua das Flores, 4050-262 Porto")]),
 ("Return address: 221 King St W, Toronto, ON M5H 1K4", [("LOCATION","221 King St W, Toronto, ON M5H 1K4")]),
 ("Office: Rua Oscar Freire, 379 - Jardins, São Paulo - SP, 01426-001", [("LOCATION","Rua Oscar Freire, 379 - Jardins, São Paulo - SP, 01426-001")]),
 ("Apt. 5C, 310 West 79th Street, New York, NY 10024", [("LOCATION","Apt. 5C, 310 West 79th Street, New York, NY 10024")]),
 ("Our store at ul. Floriańska 14, 31-019 Kraków opens at nine.", [("LOCATION","ul. Floriańska 14, 31-019 Kraków")]),
 ("Sveavägen 44, 111 34 Stockholm is the venue.", [("LOCATION","Sveavägen 44, 111 34 Stockholm")]),
 ("Meet me at Martin Luther King Jr. Park at noon.", []),
 ("Take Washington Street to the end and turn onto Lincoln Avenue.", []),
 ("The George Washington Bridge was closed.", []),
 ("We released Jupyter Notebook 7 and Visual Studio 2022.", []),
 ("Grant Access, then Review Changes and Merge Request 42.", []),
 ("Chapter 5 Place Holders and Section 3 Road Map", []),
 ("Via Slack 2 people asked about the Amazon Echo.", []),
 ("Note: Monday is a holiday. Total: 4 items.", []),
 ("Danish: Tak for hjælpen.", []),
 ("Call +44 (20) 7946 0958 ext. 12 or the Ankara office on +90 312 123 45 67.", [("PHONE_NUMBER","+44 (20) 7946 0958 ext. 12"),("PHONE_NUMBER","+90 312 123 45 67")]),
 ("Mobile +33 6 12 34 56 78; at home I am on 01 42 68 53 00.", [("PHONE_NUMBER","+33 6 12 34 56 78"),("PHONE_NUMBER","01 42 68 53 00")]),
 ("Our Berlin line is +49 (30) 901820, the Munich one 089 2351 2000.", [("PHONE_NUMBER","+49 (30) 901820"),("PHONE_NUMBER","089 2351 2000")]),
 ("Tracking number 5321234567 and order 9171234567 shipped.", []),
]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names-prose.jsonl'), 'w') as out:
    for text, spans in cases:
        gold=[]; b=text.encode(); pos={}
        for typ, sub in spans:
            sb=sub.encode(); frm=pos.get(sub,0)
            i=b.index(sb, frm); pos[sub]=i+len(sb)
            gold.append({"type":typ,"start":i,"end":i+len(sb)})
        out.write(json.dumps({"text":text,"families":["PERSON","LOCATION","PHONE_NUMBER"],"spans":gold,"id":"prose:%d" % len(gold) + ":" + text[:20],"meta":{"source":"warden-names-prose"}},ensure_ascii=False)+"\n")
