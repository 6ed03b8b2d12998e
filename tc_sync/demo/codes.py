"""The demo practice's procedure codes (CDT, made-up fees) and the coverage categories they are
billed under; writes the procedurecode rows."""

from __future__ import annotations

from collections.abc import Iterator

from tc_sync.demo.context import Context, Row
from tc_sync.demo.model import Code

# Coverage categories (covcat numbers) a code is billed under; percentages per plan in insurance.
# NOT_BILLED is Open Dental's "General" category: codes never billed to insurance.
DIAG, XRAY, PREV, RESTO, ENDO, PERIO, SURG, CROWN, PROS, ORTHO, NOT_BILLED = range(1, 12)

# Procedure codes: (code, description, abbreviation, category, fee, treat area, covcat, kind)
# Treat area: 1 surface, 2 tooth, 3 mouth, 4 quadrant, 6 arch.
# Kind: x exam/xray, h hygiene, r restorative, m major, s surgery, o other.
CODES: tuple[tuple[str, str, str, str, float, int, int, str], ...] = (
    ("D0120", "periodic oral evaluation", "PerEx", "Exams & Xrays", 65.0, 3, DIAG, "x"),
    ("D0140", "limited oral evaluation - problem focused", "LimEx", "Exams & Xrays", 89.0, 3,
     DIAG, "x"),
    ("D0150", "comprehensive oral evaluation", "CompEx", "Exams & Xrays", 110.0, 3, DIAG, "x"),
    ("D0170", "re-evaluation - limited, problem focused", "ReEval", "Exams & Xrays", 70.0, 3,
     DIAG, "x"),
    ("D0180", "comprehensive periodontal evaluation", "PerioEx", "Exams & Xrays", 115.0, 3,
     DIAG, "x"),
    ("D0210", "intraoral - comprehensive series of images", "FMX", "Exams & Xrays", 150.0, 3,
     XRAY, "x"),
    ("D0220", "intraoral - periapical first image", "PA", "Exams & Xrays", 50.0, 2, XRAY, "x"),
    ("D0230", "intraoral - periapical each additional image", "PA+", "Exams & Xrays", 50.0, 2,
     XRAY, "x"),
    ("D0272", "bitewings - two images", "2BW", "Exams & Xrays", 60.0, 3, XRAY, "x"),
    ("D0274", "bitewings - four images", "4BW", "Exams & Xrays", 80.0, 3, XRAY, "x"),
    ("D0330", "panoramic image", "Pano", "Exams & Xrays", 135.0, 3, XRAY, "x"),
    ("D0350", "2D oral/facial photographic image", "Photo", "Exams & Xrays", 55.0, 3, NOT_BILLED,
     "x"),
    ("D1110", "prophylaxis - adult", "Pro", "Cleanings", 115.0, 3, PREV, "h"),
    ("D1120", "prophylaxis - child", "ProChild", "Cleanings", 85.0, 3, PREV, "h"),
    ("D1206", "topical application of fluoride varnish", "FlVarn", "Cleanings", 55.0, 3, NOT_BILLED,
     "h"),
    ("D1208", "topical application of fluoride", "Flo", "Cleanings", 50.0, 3, PREV, "h"),
    ("D1351", "sealant - per tooth", "Seal", "Cleanings", 60.0, 2, PREV, "h"),
    ("D1510", "space maintainer - fixed, unilateral", "SpMaint", "Misc", 390.0, 4, PREV, "r"),
    ("D2140", "amalgam - one surface, primary or permanent", "A1", "Fillings", 140.0, 1, RESTO,
     "r"),
    ("D2150", "amalgam - two surfaces, primary or permanent", "A2", "Fillings", 175.0, 1, RESTO,
     "r"),
    ("D2160", "amalgam - three surfaces, primary or permanent", "A3", "Fillings", 210.0, 1,
     RESTO, "r"),
    ("D2330", "resin-based composite - one surface, anterior", "C1", "Fillings", 160.0, 1,
     RESTO, "r"),
    ("D2331", "resin-based composite - two surfaces, anterior", "C2", "Fillings", 190.0, 1,
     RESTO, "r"),
    ("D2332", "resin-based composite - three surfaces, anterior", "C3", "Fillings", 230.0, 1,
     RESTO, "r"),
    ("D2391", "resin-based composite - one surface, posterior", "CP1", "Fillings", 180.0, 1,
     RESTO, "r"),
    ("D2392", "resin-based composite - two surfaces, posterior", "CP2", "Fillings", 225.0, 1,
     RESTO, "r"),
    ("D2393", "resin-based composite - three surfaces, posterior", "CP3", "Fillings", 275.0, 1,
     RESTO, "r"),
    ("D2394", "resin-based composite - four or more surfaces, posterior", "CP4", "Fillings",
     315.0, 1, RESTO, "r"),
    ("D2740", "crown - porcelain/ceramic", "CrnPorc", "Crown & Bridge", 1350.0, 2, CROWN, "m"),
    ("D2750", "crown - porcelain fused to high noble metal", "PFM", "Crown & Bridge", 1280.0, 2,
     CROWN, "m"),
    ("D2790", "crown - full cast high noble metal", "FGC", "Crown & Bridge", 1220.0, 2, CROWN,
     "m"),
    ("D2920", "re-cement or re-bond crown", "Recem", "Crown & Bridge", 110.0, 2, RESTO, "r"),
    ("D2930", "prefabricated stainless steel crown - primary tooth", "SSC", "Crown & Bridge",
     310.0, 2, RESTO, "r"),
    ("D2950", "core buildup, including any pins when required", "BU", "Crown & Bridge", 295.0, 2,
     CROWN, "m"),
    ("D2954", "prefabricated post and core in addition to crown", "PostCore", "Crown & Bridge",
     350.0, 2, CROWN, "m"),
    ("D2962", "labial veneer (porcelain laminate)", "Veneer", "Cosmetic", 1250.0, 2, NOT_BILLED,
     "m"),
    ("D3220", "therapeutic pulpotomy", "Pulpot", "Endo", 210.0, 2, ENDO, "r"),
    ("D3310", "endodontic therapy, anterior tooth", "RCTAnt", "Endo", 820.0, 2, ENDO, "m"),
    ("D3320", "endodontic therapy, premolar tooth", "RCTPre", "Endo", 960.0, 2, ENDO, "m"),
    ("D3330", "endodontic therapy, molar tooth", "RCTMol", "Endo", 1180.0, 2, ENDO, "m"),
    ("D4260", "osseous surgery - four or more teeth per quadrant", "Osseous", "Perio", 1150.0, 4,
     PERIO, "m"),
    ("D4341", "periodontal scaling and root planing - four or more teeth per quadrant", "SRP4",
     "Perio", 255.0, 4, PERIO, "m"),
    ("D4342", "periodontal scaling and root planing - one to three teeth per quadrant", "SRP13",
     "Perio", 175.0, 4, PERIO, "r"),
    ("D4355", "full mouth debridement", "FMD", "Perio", 175.0, 3, PERIO, "h"),
    ("D4381", "localized delivery of antimicrobial agents", "Arestin", "Perio", 85.0, 2, PERIO,
     "r"),
    ("D4910", "periodontal maintenance", "PerMaint", "Perio", 160.0, 3, PERIO, "h"),
    ("D5110", "complete denture - maxillary", "CDMax", "Dentures", 1950.0, 6, PROS, "m"),
    ("D5120", "complete denture - mandibular", "CDMand", "Dentures", 1950.0, 6, PROS, "m"),
    ("D5213", "maxillary partial denture - cast metal framework", "PartMax", "Dentures", 2050.0,
     6, PROS, "m"),
    ("D6010", "surgical placement of implant body: endosteal implant", "Impl", "Implants",
     2300.0, 2, PROS, "m"),
    ("D6057", "custom fabricated abutment", "Abut", "Implants", 850.0, 2, PROS, "m"),
    ("D6065", "implant supported porcelain/ceramic crown", "ImplCrn", "Implants", 1500.0, 2,
     PROS, "m"),
    ("D6240", "pontic - porcelain fused to high noble metal", "Pontic", "Crown & Bridge", 1180.0,
     2, PROS, "m"),
    ("D6750", "retainer crown - porcelain fused to high noble metal", "RetCrn", "Crown & Bridge",
     1240.0, 2, PROS, "m"),
    ("D7140", "extraction, erupted tooth or exposed root", "Ext", "Oral Surgery", 185.0, 2,
     SURG, "s"),
    ("D7210", "extraction, erupted tooth requiring removal of bone", "SurgExt", "Oral Surgery",
     300.0, 2, SURG, "s"),
    ("D7240", "removal of impacted tooth - completely bony", "ImpBony", "Oral Surgery", 470.0, 2,
     SURG, "s"),
    ("D7953", "bone replacement graft for ridge preservation", "Graft", "Oral Surgery", 540.0, 2,
     SURG, "s"),
    ("D8080", "comprehensive orthodontic treatment of the adolescent dentition", "OrthoAdol",
     "Ortho", 2950.0, 3, ORTHO, "m"),
    ("D8090", "comprehensive orthodontic treatment of the adult dentition", "OrthoAdult", "Ortho",
     3000.0, 3, ORTHO, "m"),
    ("D9110", "palliative treatment of dental pain", "Pall", "Misc", 95.0, 3, SURG, "o"),
    ("D9230", "inhalation of nitrous oxide/analgesia", "N2O", "Misc", 70.0, 3, NOT_BILLED, "o"),
    ("D9310", "consultation", "Consult", "Misc", 110.0, 3, DIAG, "o"),
    ("D9944", "occlusal guard - hard appliance, full arch", "Guard", "Misc", 520.0, 6, NOT_BILLED,
     "m"),
    ("D9972", "external bleaching - per arch", "Bleach", "Cosmetic", 300.0, 6, NOT_BILLED, "o"),
    ("D9986", "missed appointment", "Missed", "Misc", 50.0, 3, NOT_BILLED, "o"),
)


def procedure_codes(ctx: Context) -> Iterator[tuple[str, Row]]:
    """The procedurecode rows (after the definitions); fills ``ctx.codes``."""
    rng, categories = ctx.rng, ctx.procedure_categories
    for code, descript, abbr, cat, fee, area, covcat, kind in CODES:
        num = ctx.key("procedurecode")
        hyg = kind == "h"
        ctx.codes[code] = Code(
            num, code, abbr, fee, area, covcat, kind, hyg, code in ("D2330", "D2331", "D2332")
        )
        yield "procedurecode", (
            num, code, descript, abbr, "/XX/" if hyg else "/XXX/", categories[cat], area,
            1 if covcat == NOT_BILLED else 0, 1 if kind == "m" and covcat in (CROWN, PROS) else 0,
            1 if hyg else 0, 0, 0, 0, ctx.stamp(rng.randint(-1500, -400)), 0, 0, "", "",
        )
