"""Writes kept_roster.xls: a legacy-Excel roster as a committee clerk keeps one
(synthetic people). An instructions sheet first; on the roster sheet a title merged over
the columns, a date line, the header, a household of three whose address is one cell
merged over their rows, a resident whose name cell is merged over two rows, a totals line
and who drew the table up.

Made once with xlwt 1.3.0 from PyPI (`pip install xlwt`); the file is committed, so tests
need no Python. Run again only to change the roster.
"""

import xlwt

book = xlwt.Workbook(encoding="utf-8")
book.add_sheet("填表说明").write(0, 0, "请按下表填写，身份证号请设为文本")
sheet = book.add_sheet("花名册")
sheet.write_merge(0, 0, 0, 5, "测试社区高龄老人花名册")
sheet.write(1, 0, "填报日期：2026年12月")
for col, header in enumerate(["序号", "姓名", "身份证号码", "联系电话", "家庭住址", "备注"]):
    sheet.write(2, col, header)
household = [
    ("1", "测试甲", "110105194003010011", "13800000001"),
    ("2", "测试乙", "11010519400301002X", ""),
    ("3", "测试丙", "110105194203010032", ""),
]
for r, row in enumerate(household):
    for col, value in enumerate(row):
        sheet.write(3 + r, col, value)
# One address for the household's three rows.
sheet.write_merge(3, 5, 4, 4, "测试路1号")
# A name merged over two rows: the second row has an ID number and no name of its own.
sheet.write(6, 0, "4")
sheet.write_merge(6, 7, 1, 1, "测试丁")
sheet.write(6, 2, "11010519430401004X")
sheet.write(7, 2, "110105194404010055")
sheet.write(6, 4, "测试路2号")
sheet.write(8, 0, "合 计")
sheet.write(8, 1, "5人")
sheet.write(10, 0, "制表人：测试戊")
book.save("kept_roster.xls")
