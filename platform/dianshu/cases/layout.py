"""The ingestion layout: one row per inpatient stay, columns named as in the national medical
insurance platform's settlement-list interface (医保结算清单, 4101A). Multi-valued fields are
'|'-separated in CSV and arrays in JSON Lines. The README documents this table."""

from __future__ import annotations

# (column, 中文名, required, meaning)
COLUMNS: tuple[tuple[str, str, bool, str], ...] = (
    ("setl_id", "结算清单流水号", True, "the list id: unique per hospital"),
    ("fixmedins_code", "定点医药机构编号", True, "hospital code"),
    ("medcasno", "病案号", True, "medical record number"),
    ("psn_no", "人员编号", True, "patient id, stored only as its keyed hash (HMAC-SHA256)"),
    ("gend", "性别", True, "1 male, 2 female"),
    ("brdy", "出生日期", False, "YYYY-MM-DD"),
    ("age", "年龄(岁)", True, "age in whole years at admission"),
    ("nwb_age", "年龄(天)", False, "age in days, under one year"),
    ("nwb_bir_wt", "新生儿出生体重(g)", False, "newborn birth weight"),
    ("nwb_adm_wt", "新生儿入院体重(g)", False, "newborn admission weight"),
    ("insutype", "险种类型", True, "310 employee (职工), 390 resident (居民)"),
    ("insu_place", "参保地类型", True, "1 local, 2 in-province elsewhere, 3 out of province"),
    ("adm_way", "入院途径", False, "1 emergency, 2 outpatient, 3 transfer in, 9 other"),
    ("adm_time", "入院时间", True, "YYYY-MM-DD HH:MM[:SS]"),
    ("adm_caty", "入院科别", False, "department code or name"),
    ("dscg_time", "出院时间", True, "YYYY-MM-DD HH:MM[:SS]"),
    ("dscg_caty", "出院科别", False, "department; 'ICU' for intensive care"),
    ("chfpdr_code", "主诊医师代码", False, "attending physician's code (主诊医师; letters, digits, _ . -)"),
    ("act_ipt_days", "实际住院天数", True, "discharge date − admission date (1 when the same day)"),
    (
        "dscg_way",
        "离院方式",
        True,
        "1 ordered, 2 transfer to hospital, 3 to community, 4 against advice, 5 death, 9 other",
    ),
    ("days_rinp_flag_31", "出院31天内再住院计划", False, "1 planned readmission within 31 days, 0 none"),
    ("code_ver", "编码版本", False, "yibao (医保版, default) or guolin (国临版)"),
    ("diag_codes", "诊断代码", True, "principal first, '|'-separated"),
    ("adm_cond_types", "入院病情", False, "per diagnosis, 1-4, '|'-separated"),
    ("oprn_oprt_codes", "手术操作代码", False, "principal first, '|'-separated"),
    ("oprn_oprt_dates", "手术操作日期", False, "per procedure, YYYY-MM-DD, '|'-separated"),
    ("oprn_oprt_lvs", "手术级别", False, "per procedure, 1-4, '|'-separated"),
    ("vent_used_dura", "呼吸机使用时长(小时)", False, "invasive ventilation hours"),
    ("scs_cutd_sum_dura", "重症监护合计时长(小时)", False, "ICU hours"),
    *[
        (f"med_chrgitm_{i:02d}", name, False, f"charges: {meaning}")
        for i, (name, meaning) in enumerate(
            (
                ("床位费", "bed"),
                ("诊察费", "consultation"),
                ("检查费", "examination"),
                ("化验费", "laboratory"),
                ("治疗费", "treatment"),
                ("手术费", "surgery"),
                ("护理费", "nursing"),
                ("卫生材料费", "medical materials"),
                ("西药费", "western drugs"),
                ("中药饮片费", "TCM herbal pieces"),
                ("中成药费", "TCM patent drugs"),
                ("一般诊疗费", "general diagnosis and treatment"),
                ("挂号费", "registration"),
                ("其他费", "other"),
            ),
            start=1,
        )
    ],
    ("medfee_sumamt", "医疗费总额", True, "total cost, = the 14 charges"),
    ("fund_pay_sumamt", "基金支付总额", True, "fund payment"),
    ("psn_selfpay", "个人自付", True, "patient co-payment inside the catalogue"),
    ("psn_ownpay", "个人自费", True, "patient own-pay outside the catalogue; fund + selfpay + ownpay = total"),
    ("correction", "更正标志", False, "1: this row replaces the list id's accepted version"),
)
NAMES = tuple(c[0] for c in COLUMNS)
CHARGE_COLUMNS = tuple(f"med_chrgitm_{i:02d}" for i in range(1, 15))
MULTI = ("diag_codes", "adm_cond_types", "oprn_oprt_codes", "oprn_oprt_dates", "oprn_oprt_lvs")
FUND_TYPES = {"310": "employee", "390": "resident"}
