# Writes src/consent/decision-table/cases.json, the decision table of the consent engine (run from the repository root).
import json
C=[]
def case(name, expect, **kw):
    d={"name":name}; d.update(kw); d["expect"]=expect; C.append(d)
P2=[{"id":"mother","gezag":True,"relation":"MTH"},{"id":"father","gezag":True,"relation":"FTH"}]
P1=[{"id":"mother","gezag":True,"relation":"MTH"},{"id":"father","gezag":False,"relation":"FTH"}]
def con(performers, actors=("gp",), purposes=("CAREMGT",), **kw):
    c={"performers":list(performers),"actors":list(actors),"purposes":list(purposes)}; c.update(kw); return c
def req(recipient="gp", purpose="CAREMGT", **kw):
    r={"recipient":recipient,"purpose":purpose}; r.update(kw); return r
P=lambda **k: {"decision":"permit", **k}
D=lambda *codes, **k: {"decision":"deny","reasons":list(codes), **k}
CP=["consent-permits"]
# --- age bands (decision moment 2026-06-15 12:00 in Amsterdam)
case("under 12: both parents with gezag consent in one Consent", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"])], request=req())
case("under 12: only one of two gezag holders consents", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother"])], request=req())
case("under 12: both gezag holders consent in separate Consents", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother"]),con(["father"])], request=req())
case("under 12: one gezag holder, she consents", P(reasons=CP), birthDate="2017-03-14", parents=P1, consents=[con(["mother"])], request=req())
case("under 12: the father without gezag consents, which is no basis", D("consent-missing"), birthDate="2017-03-14", parents=P1, consents=[con(["father"])], request=req())
case("under 12: no gezag holder registered", D("no-gezag-holder"), birthDate="2017-03-14", parents=[{"id":"father","gezag":False}], consents=[con(["father"])], request=req())
case("under 12: the child alone consents", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["child"])], request=req())
case("11, turning 12 tomorrow: the parents alone suffice", P(reasons=CP), birthDate="2014-06-16", parents=P2, consents=[con(["mother","father"])], request=req())
case("11, turning 12 tomorrow: the child alone is not enough", D("consent-missing"), birthDate="2014-06-16", parents=P2, consents=[con(["child"])], request=req())
case("12 today: the parents alone no longer suffice", D("consent-missing"), birthDate="2014-06-15", parents=P2, consents=[con(["mother","father"],dateTime="2026-06-15T09:00:00+02:00")], request=req())
case("12 today: child and both parents consent", P(reasons=CP), birthDate="2014-06-15", parents=P2, consents=[con(["child","mother","father"])], request=req())
case("12 since yesterday: child and both parents consent", P(reasons=CP), birthDate="2014-06-14", parents=P2, consents=[con(["child","mother","father"])], request=req())
case("12 today: the child alone is not enough", D("consent-missing"), birthDate="2014-06-15", parents=P2, consents=[con(["child"])], request=req())
case("13: child and one of two gezag holders", D("consent-missing"), birthDate="2013-01-20", parents=P2, consents=[con(["child","mother"])], request=req())
case("15, turning 16 tomorrow: the young person alone is not enough", D("consent-missing"), birthDate="2010-06-16", parents=P2, consents=[con(["child"])], request=req())
case("15: young person and both parents", P(reasons=CP), birthDate="2010-06-16", parents=P2, consents=[con(["child"]),con(["mother","father"])], request=req())
case("16 today: the young person alone suffices", P(reasons=CP), birthDate="2010-06-15", parents=P2, consents=[con(["child"])], request=req())
case("16 since yesterday: the young person alone suffices", P(reasons=CP), birthDate="2010-06-14", parents=P2, consents=[con(["child"])], request=req())
case("16: the parents' consent of today is not the young person's", D("consent-missing"), birthDate="2010-06-15", parents=P2, consents=[con(["mother","father"],dateTime="2026-06-15T09:00:00+02:00")], request=req())
case("17: the young person alone", P(reasons=CP), birthDate="2009-02-01", parents=P2, consents=[con(["child"])], request=req())
case("adult (18 today) consents for themselves", P(reasons=CP), birthDate="2008-06-15", parents=[], consents=[con(["child"])], request=req())
case("adult: a parent's consent is no basis", D("consent-missing"), birthDate="1990-01-01", parents=P2, consents=[con(["mother"])], request=req())
case("no birth date registered: who must consent is unknown", D("birthdate-missing"), birthDate=None, parents=P2, consents=[con(["mother","father"])], request=req())
case("subject not in the person index", D("subject-unknown"), unknownSubject=True, request=req())
# --- age transitions
case("now 12, parents consented when she was 11: valid until withdrawn (default policy)", P(reasons=CP), birthDate="2014-03-01", parents=P2, consents=[con(["mother","father"],dateTime="2025-11-01T10:00:00+01:00")], request=req())
case("now 12, parents consented when she was 11: the renewal policy requires her consent", D("consent-renewal-required"), policy="require-renewal", birthDate="2014-03-01", parents=P2, consents=[con(["mother","father"],dateTime="2025-11-01T10:00:00+01:00")], request=req())
case("now 16, he and his parents consented at 14: still valid by default", P(reasons=CP), birthDate="2010-03-01", parents=P2, consents=[con(["child","mother","father"],dateTime="2024-09-01T10:00:00+02:00")], request=req())
case("now 16, only the parents consented when he was 11: renewal policy denies", D("consent-renewal-required"), policy="require-renewal", birthDate="2010-03-01", parents=P2, consents=[con(["mother","father"],dateTime="2021-09-01T10:00:00+02:00")], request=req())
case("now 16, only the parents consented when he was 11: valid until withdrawn by default", P(reasons=CP), birthDate="2010-03-01", parents=P2, consents=[con(["mother","father"],dateTime="2021-09-01T10:00:00+02:00")], request=req())
case("now 16, his own consent at 14 still counts under the renewal policy", P(reasons=CP), policy="require-renewal", birthDate="2010-03-01", parents=P2, consents=[con(["child","mother","father"],dateTime="2024-09-01T10:00:00+02:00")], request=req())
case("now 13, parental consent from age 11, but she refuses now", D("consent-refused"), birthDate="2013-01-10", parents=P2, consents=[con(["mother","father"],dateTime="2023-09-01T10:00:00+02:00"),con(["child"],type="deny")], request=req())
case("12 today, parents consented yesterday: valid by default", P(reasons=CP), birthDate="2014-06-15", parents=P2, consents=[con(["mother","father"],dateTime="2026-06-14T10:00:00+02:00")], request=req())
case("12 today, parents consented yesterday: renewal policy denies", D("consent-renewal-required"), policy="require-renewal", birthDate="2014-06-15", parents=P2, consents=[con(["mother","father"],dateTime="2026-06-14T10:00:00+02:00")], request=req())
# --- periods
case("provision period ended yesterday", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],period={"start":"2025-06-15","end":"2026-06-14"})], request=req())
case("provision period starts tomorrow", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],period={"start":"2026-06-16","end":"2027-06-16"})], request=req())
case("provision period ends today (the whole day counts)", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],period={"start":"2025-06-15","end":"2026-06-15"})], request=req())
case("provision period started today", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],period={"start":"2026-06-15"})], request=req())
# --- statuses
for st in ["inactive","draft","rejected","entered-in-error","proposed"]:
    case(f"a Consent with status {st} never counts", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],status=st)], request=req())
case("a withdrawn Consent (inactive since withdrawal) no longer counts", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],status="inactive",withdrawnAt="2026-06-15T08:00:00+02:00")], request=req())
case("a Consent about treatment, not privacy, is no basis", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],scope="treatment")], request=req())
# --- recipients, purposes, actions
case("the consent names another organisation", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],actors=["school"])], request=req())
case("the consent names another purpose", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],purposes=["TREAT"])], request=req())
case("actor given as a role: every GP", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],actors=[],roleActors=["gp"])], request=req())
case("actor given as a role: youth care, but the recipient is a GP", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],actors=[],roleActors=["youth-care"])], request=req())
case("actor given by URA identifier", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],actors=[],uraActors=["90000107"])], request=req())
case("no actor restriction: any recipient for this purpose", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],actors=[])], request=req(recipient="school"))
case("the consent permits access only, not disclosure", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],actions=["access"])], request=req())
case("the consent permits disclosure", P(reasons=CP), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],actions=["disclose"])], request=req())
# --- nested provisions
case("permit with a nested deny for research; asked for care management", P(reasons=CP), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],purposes=[],nested=[{"type":"deny","purpose":["HRESCH"]}])], request=req())
case("permit with a nested deny for research; asked for research", D("consent-refused"), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],purposes=[],nested=[{"type":"deny","purpose":["HRESCH"]}])], request=req(purpose="HRESCH"))
case("opt-out base with a nested permit for the GP", P(reasons=CP), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],type="deny",actors=[],purposes=[],nested=[{"type":"permit","actor":["gp"],"purpose":["CAREMGT"]}])], request=req())
case("opt-out base with a nested permit for the GP; the school asks", D("consent-refused"), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],type="deny",actors=[],purposes=[],nested=[{"type":"permit","actor":["gp"],"purpose":["CAREMGT"]}])], request=req(recipient="school"))
case("permit and deny at the same depth: the deny wins", D("consent-refused"), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],actors=[],purposes=[],nested=[{"type":"permit","actor":["gp"]},{"type":"deny","actor":["gp"],"purpose":["CAREMGT"]}])], request=req())
case("two levels down: deny the school, except for treatment", P(reasons=CP), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],actors=[],purposes=[],nested=[{"type":"deny","actor":["school"],"nested":[{"type":"permit","purpose":["TREAT"]}]}])], request=req(recipient="school",purpose="TREAT"))
case("two levels down: the school asks for care management and meets the deny", D("consent-refused"), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],actors=[],purposes=[],nested=[{"type":"deny","actor":["school"],"nested":[{"type":"permit","purpose":["TREAT"]}]}])], request=req(recipient="school"))
# --- performers
case("a consent by a parent of another child does not count", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["stranger"])], request=req())
case("a consent 'given' by an organisation does not count", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["Organization/cjg-venlo"])], request=req())
case("a consent about another child does not count", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"],patient="Patient/other")], request=req())
# --- several consents
case("one consent permits, another by the same parents refuses this recipient", D("consent-refused"), birthDate="2017-03-14", parents=P2, consents=[con(["mother","father"]),con(["mother"],type="deny")], request=req())
case("the mother permits, the father (gezag) refuses", D("consent-refused"), birthDate="2017-03-14", parents=P2, consents=[con(["mother"]),con(["father"],type="deny")], request=req())
case("a refusal by the father without gezag is not his to give", P(reasons=CP), birthDate="2017-03-14", parents=P1, consents=[con(["mother"]),con(["father"],type="deny")], request=req())
case("a consent about another person changes nothing", D("consent-missing"), birthDate="2017-03-14", parents=P2, consents=[con(["mother"]),con(["mother","father"],patient="Patient/other")], request=req())
# --- legal exceptions
J="Ondertoezichtstelling sinds maart; GI vraagt het gezinsplan op voor de uitvoering."
LJ="Moeder weigert contact, ernstige zorg over veiligheid van het kind; collega geraadpleegd, geen andere weg."
def lb(code, **kw):
    r={"legalBasis":code}; r.update(kw); return r
case("GI with court order: CJG to GI, justified, criterion met", P(reasons=["legal-basis-permits"],basis="legal-exception",obligations=["REVIEW"]), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="gi",**lb("jw-7.3.11-gi-ots",justification=J,criteria={"court-order":True})))
case("GI with court order without justification", D("justification-missing"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="gi",**lb("jw-7.3.11-gi-ots",criteria={"court-order":True})))
case("GI with court order: justification too short", D("justification-too-short"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="gi",**lb("jw-7.3.11-gi-ots",justification="OTS",criteria={"court-order":True})))
case("GI with court order: the court-order criterion is not recorded", D("criterion-missing"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="gi",**lb("jw-7.3.11-gi-ots",justification=J)))
case("GI with court order used to send to a school", D("recipient-role-not-allowed"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="school",**lb("jw-7.3.11-gi-ots",justification=J,criteria={"court-order":True})))
case("GI with court order overrides a parent's refusal", P(reasons=["legal-basis-permits"],basis="legal-exception"), birthDate="2017-03-14", parents=P2, consents=[con(["mother"],type="deny",actors=[],purposes=[])],
     request=req(recipient="gi",**lb("jw-7.3.11-gi-ots",justification=J,criteria={"court-order":True})))
case("directly involved: youth care to the GP for treatment", P(reasons=["legal-basis-permits"],basis="legal-exception",noObligations=True), birthDate="2017-03-14", parents=P2, consents=[], requesterRole="youth-care",
     request=req(purpose="TREAT",**lb("jw-7.3.11-directly-involved",justification="Behandelend huisarts, gezamenlijke uitvoering van het plan.",criteria={"directly-involved":True})))
case("directly involved is only for the care itself, not research", D("purpose-not-allowed"), birthDate="2017-03-14", parents=P2, consents=[], requesterRole="youth-care",
     request=req(purpose="HRESCH",**lb("jw-7.3.11-directly-involved",justification="Behandelend huisarts, gezamenlijke uitvoering van het plan.",criteria={"directly-involved":True})))
case("directly involved cannot be invoked by a school", D("requester-role-not-allowed"), birthDate="2017-03-14", parents=P2, consents=[], requesterRole="school",
     request=req(purpose="TREAT",**lb("jw-7.3.11-directly-involved",justification="Behandelend huisarts, gezamenlijke uitvoering van het plan.",criteria={"directly-involved":True})))
case("research: pseudonymised, reviewed", P(reasons=["legal-basis-permits"],basis="legal-exception",obligations=["REVIEW","PSEUD"],pseudonymised=True), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="research",purpose="HRESCH",**lb("jw-7.3.12-research",justification="Evaluatie gezinscoaching 2026, protocol JG-2026-04.",criteria={"research-protocol":"JG-2026-04"})),
     payload=[{"resourceType":"Patient","id":"child","identifier":[{"system":"http://fhir.nl/fhir/NamingSystem/bsn","value":"999910036"}],"name":[{"family":"Jansen"}],"birthDate":"2017-03-14"},
              {"resourceType":"CarePlan","id":"plan","status":"active","intent":"plan","subject":{"reference":"Patient/child"}}],
     delivered=["Patient/child","CarePlan/plan"])
case("research without justification", D("justification-missing"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="research",purpose="HRESCH",**lb("jw-7.3.12-research",criteria={"research-protocol":"JG-2026-04"})))
case("Verwijsindex report for a 17-year-old: involvement only, name masked", P(reasons=["legal-basis-permits","data-removed"],basis="legal-exception",obligations=["NOTIFY-CLIENT","MASK","REDACT"],masked=["name"]), birthDate="2009-02-01", parents=P2, consents=[],
     request=req(recipient="vir",purpose="CAREMGT",**lb("jw-7.1.4.1-vir-report")),
     payload=[{"resourceType":"Patient","id":"child","identifier":[{"system":"http://fhir.nl/fhir/NamingSystem/bsn","value":"999910036"}],"name":[{"family":"Jansen"}],"birthDate":"2009-02-01"},
              {"resourceType":"EpisodeOfCare","id":"eoc","status":"active","patient":{"reference":"Patient/child"}},
              {"resourceType":"CarePlan","id":"plan","status":"active","intent":"plan","subject":{"reference":"Patient/child"}}],
     delivered=["Patient/child","EpisodeOfCare/eoc"], removed=["CarePlan/plan"])
case("Verwijsindex report for someone of 23", D("subject-too-old"), birthDate="2003-05-01", parents=[], consents=[], request=req(recipient="vir",**lb("jw-7.1.4.1-vir-report")))
case("Verwijsindex report on the day before the 23rd birthday", P(reasons=["legal-basis-permits"],basis="legal-exception"), birthDate="2003-06-16", parents=[], consents=[], request=req(recipient="vir",**lb("jw-7.1.4.1-vir-report")))
case("school reports to Veilig Thuis, reporting code followed", P(reasons=["legal-basis-permits"],basis="legal-exception",obligations=["NOTIFY-CLIENT","REVIEW"]), birthDate="2017-03-14", parents=P2, consents=[], requesterRole="school",
     request=req(recipient="vt",purpose="CAREMGT",**lb("wmo-5.2.6-veilig-thuis",justification="Blauwe plekken, kind vertelt over geweld thuis; meldcode stap 5.",criteria={"meldcode-followed":True})))
case("report to Veilig Thuis without justification", D("justification-missing"), birthDate="2017-03-14", parents=P2, consents=[], requesterRole="school",
     request=req(recipient="vt",**lb("wmo-5.2.6-veilig-thuis",criteria={"meldcode-followed":True})))
case("GI reports to the Child Protection Board", P(reasons=["legal-basis-permits"],basis="legal-exception",obligations=["NOTIFY-CLIENT","REVIEW"]), birthDate="2017-03-14", parents=P2, consents=[], requesterRole="gi",
     request=req(recipient="rvdk",**lb("bw-1-240-rvdk",justification="Ouders werken niet mee, veiligheid niet gewaarborgd binnen OTS.")))
case("Child Protection Board basis used to send to the GP", D("recipient-role-not-allowed"), birthDate="2017-03-14", parents=P2, consents=[], requesterRole="gi",
     request=req(recipient="gp",**lb("bw-1-240-rvdk",justification="Ouders werken niet mee, veiligheid niet gewaarborgd binnen OTS.")))
case("reporting-code consultation is pseudonymised and leaves out who the child is", P(reasons=["legal-basis-permits","data-removed"],basis="legal-exception",obligations=["PSEUD"],pseudonymised=True), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="vt",**lb("meldcode-step",justification="Anoniem overleg over zorgen om het kind, stap 2.")),
     payload=[{"resourceType":"Patient","id":"child","identifier":[{"system":"http://fhir.nl/fhir/NamingSystem/bsn","value":"999910036"}],"name":[{"family":"Jansen"}],"birthDate":"2017-03-14"},
              {"resourceType":"CarePlan","id":"plan","status":"active","intent":"plan","subject":{"reference":"Patient/child"}}],
     delivered=["CarePlan/plan"], removed=["Patient/child"])
CRIT={"consent-sought-or-impossible":True,"serious-harm":True,"no-other-way":True,"proportional":True,"colleague-consulted":True}
case("conflict of duties with every criterion recorded", P(reasons=["legal-basis-permits"],basis="legal-exception",obligations=["NOTIFY-CLIENT","REVIEW"]), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="yc",**lb("conflict-of-duties",justification=LJ,criteria=CRIT)))
case("conflict of duties without the colleague consulted", D("criterion-missing"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="yc",**lb("conflict-of-duties",justification=LJ,criteria={k:v for k,v in CRIT.items() if k!="colleague-consulted"})))
case("conflict of duties with a criterion recorded as not met", D("criterion-missing"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="yc",**lb("conflict-of-duties",justification=LJ,criteria={**CRIT,"proportional":False})))
case("conflict of duties with too short a justification", D("justification-too-short"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="yc",**lb("conflict-of-duties",justification="Zorgen om veiligheid.",criteria=CRIT)))
case("reuse across Jeugdwet/Wmo without consent is no exception", D("legal-basis-requires-consent"), birthDate="1985-01-01", parents=[], consents=[], requesterRole="municipality",
     request=req(recipient="municipality",**lb("wmo-5.1.1-4-reuse")))
case("reuse across Jeugdwet/Wmo with the client's consent", P(reasons=CP,basis="consent"), birthDate="1985-01-01", parents=[], consents=[con(["child"],actors=["municipality"])], requesterRole="municipality",
     request=req(recipient="municipality",**lb("wmo-5.1.1-4-reuse")))
case("Wams is not in force, however well justified", D("legal-basis-not-in-force"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="yc",**lb("wams",justification=LJ,criteria=CRIT)))
case("GP told that a family coach is involved, nobody objected", P(reasons=["legal-basis-permits"],basis="legal-exception",noObligations=True), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(**lb("gp-coach-notification")))
case("GP notification when the mother objected", D("objection-recorded"), birthDate="2017-03-14", parents=P2, consents=[con(["mother"],type="deny",purposes=[])],
     request=req(**lb("gp-coach-notification")))
case("GP notification basis used towards a school", D("recipient-role-not-allowed"), birthDate="2017-03-14", parents=P2, consents=[],
     request=req(recipient="school",**lb("gp-coach-notification")))
case("an unknown legal basis", D("legal-basis-unknown"), birthDate="2017-03-14", parents=P2, consents=[], request=req(**lb("free-exchange-covenant",justification=LJ)))
# --- minimisation
BSN={"system":"http://fhir.nl/fhir/NamingSystem/bsn","value":"999910036"}
PAT={"resourceType":"Patient","id":"child","identifier":[BSN],"birthDate":"2017-03-14"}
PLAN={"resourceType":"CarePlan","id":"plan","status":"active","intent":"plan","subject":{"reference":"Patient/child"}}
def cond(id, domain, subject="Patient/child", **kw):
    c={"resourceType":"Condition","id":id,"subject":{"reference":subject},"code":{"coding":[{"system":"https://ketenpoort.nl/fhir/CodeSystem/life-domain","code":domain}]}}
    c.update(kw); return c
case("a consent for the care plan only: other data are removed", P(reasons=["consent-permits","data-removed"],obligations=["REDACT"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],codes=["care-plan"])], request=req(), payload=[PAT,PLAN,cond("debts","finances")], delivered=["CarePlan/plan"], removed=["Patient/child","Condition/debts"])
case("sensitive data (mental health) need to be named: removed under a general consent", P(reasons=["consent-permits","data-removed"],obligations=["REDACT"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"])], request=req(), payload=[PLAN,cond("psy","mental-health")], delivered=["CarePlan/plan"], removed=["Condition/psy"])
case("a consent that names the PSY label covers mental-health data", P(reasons=CP), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],labels=["PSY"])], request=req(), payload=[cond("psy","mental-health")], delivered=["Condition/psy"], labelsOut=["PSY"])
case("a nested deny for addiction removes only that", P(reasons=["consent-permits","data-removed"],obligations=["REDACT"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],nested=[{"type":"deny","code":["addiction"]}])], request=req(), payload=[cond("debts","finances"),cond("sud","addiction")], delivered=["Condition/debts"], removed=["Condition/sud"])
case("data about another person are removed", P(reasons=["consent-permits","data-removed"],obligations=["REDACT"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"])], request=req(), payload=[PLAN,cond("mothers-debts","finances",subject=None,subjectBsn="999910012")], delivered=["CarePlan/plan"], removed=["Condition/mothers-debts"])
case("nothing left after minimisation: denied", D("nothing-to-disclose","data-removed"), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],codes=["care-plan"])], request=req(), payload=[cond("debts","finances")])
case("a data period: only problems recorded since 2026", P(reasons=["consent-permits","data-removed"],obligations=["REDACT"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],dataPeriod={"start":"2026-01-01"})], request=req(), payload=[cond("old","finances",recordedDate="2025-03-01"),cond("new","housing",recordedDate="2026-02-01")], delivered=["Condition/new"], removed=["Condition/old"])
case("a 14-year-old's data carry the adolescent label", P(reasons=CP), birthDate="2012-05-02", parents=P2,
     consents=[con(["child","mother","father"])], request=req(), payload=[PLAN], delivered=["CarePlan/plan"], labelsOut=["ADOL"])
case("a data restriction by resource: only this care plan", P(reasons=["consent-permits","data-removed"],obligations=["REDACT"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],data=["CarePlan/plan"])], request=req(), payload=[PLAN,{**PLAN,"id":"plan2"}], delivered=["CarePlan/plan"], removed=["CarePlan/plan2"])
case("a class restriction: only Goals", P(reasons=["consent-permits","data-removed"],obligations=["REDACT"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],classes=["Goal"])], request=req(), payload=[PLAN,{"resourceType":"Goal","id":"g1","lifecycleStatus":"active","description":{"text":"x"},"subject":{"reference":"Patient/child"}}], delivered=["Goal/g1"], removed=["CarePlan/plan"])
# --- families
FAM=[{"id":"child","birthDate":"2017-03-14","bsn":"999910036"},{"id":"sibling","birthDate":"2012-05-02","bsn":"999910048"}]
FPAR=[{"id":"mother","of":"child","gezag":True},{"id":"father","of":"child","gezag":True},{"id":"mother2","of":"sibling","gezag":True},{"id":"father2","of":"sibling","gezag":True}]
case("family: the younger child has a basis, the older one not; each keeps their own", P(reasons=["consent-permits","family-member-no-basis","data-removed"],obligations=["REDACT"]),
     family=FAM, parents=FPAR, consents=[con(["mother","father"])], request=req(),
     payload=[cond("c1","parenting",subject="Patient/child"),cond("c2","education",subject="Patient/sibling"),{"resourceType":"CarePlan","id":"fplan","status":"active","intent":"plan","subject":{"reference":"Group/family"}}],
     delivered=["Condition/c1"], removed=["Condition/c2","CarePlan/fplan"])
case("family: both children have a basis; the family plan goes too", P(reasons=["consent-permits"]),
     family=FAM, parents=FPAR, consents=[con(["mother","father"]),con(["sibling","mother2","father2"],patient="Patient/sibling")], request=req(),
     payload=[cond("c1","parenting",subject="Patient/child"),cond("c2","education",subject="Patient/sibling"),{"resourceType":"CarePlan","id":"fplan","status":"active","intent":"plan","subject":{"reference":"Group/family"}}],
     delivered=["Condition/c1","Condition/c2","CarePlan/fplan"])
case("family with an adult member: the mother's debts need her own consent", P(reasons=["consent-permits","family-member-no-basis","data-removed"],obligations=["REDACT"]),
     family=[{"id":"child","birthDate":"2017-03-14","bsn":"999910036"},{"id":"adult","birthDate":"1988-04-04","bsn":"999910012"}], parents=[{"id":"mother","of":"child","gezag":True}],
     consents=[con(["mother"])], request=req(), payload=[cond("c1","parenting"),cond("debts","finances",subject="Patient/adult")], delivered=["Condition/c1"], removed=["Condition/debts"])
case("family with an adult member who consented for herself", P(reasons=["consent-permits"]),
     family=[{"id":"child","birthDate":"2017-03-14","bsn":"999910036"},{"id":"adult","birthDate":"1988-04-04","bsn":"999910012"}], parents=[{"id":"mother","of":"child","gezag":True}],
     consents=[con(["mother"]),con(["adult"],patient="Patient/adult")], request=req(), payload=[cond("c1","parenting"),cond("debts","finances",subject="Patient/adult")], delivered=["Condition/c1","Condition/debts"])
case("family: nobody has a basis", D("family-member-no-basis"), family=FAM, parents=FPAR, consents=[], request=req(), payload=[cond("c1","parenting")])
# --- categories without payload
case("asked for care plan and mental health: only the care plan is covered", P(reasons=CP,obligations=["REDACT"],disclosed=["care-plan"],redacted=["mental-health"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"])], request=req(categories=["care-plan","mental-health"]))
case("asked for mental health only, under a general consent", D("nothing-to-disclose"), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"])], request=req(categories=["mental-health"]))
case("asked for mental health under a consent that names it", P(reasons=CP,disclosed=["mental-health"]), birthDate="2017-03-14", parents=P2,
     consents=[con(["mother","father"],codes=["mental-health"])], request=req(categories=["mental-health"]))
out={"description":"Decision table for decide(): each case builds facts from a compact description, decides at 'at' and checks the decision, its reason codes, obligations and what is delivered or removed. Organisation keys map to the sandbox directory.",
 "at":"2026-06-15T10:00:00Z","cases":C}
open("src/consent/decision-table/cases.json","w").write(json.dumps(out,indent=1,ensure_ascii=False)+"\n")
print(len(C))
