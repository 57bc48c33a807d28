"""Code sets: 医保版 ICD-10 v2.0 diagnoses and ICD-9-CM-3 v2.0 procedures, their grey codes, and the
crosswalks from the national clinical (国临版) sets."""
