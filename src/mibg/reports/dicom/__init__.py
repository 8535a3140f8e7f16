"""DICOM output: the Radiopharmaceutical Radiation Dose SR (PS3.16 TID 10021/10022)."""
