"""Writes roster.xls, the legacy-Excel roster the roster tests read (synthetic people).

Made once with xlwt 1.3.0 from PyPI (`pip install xlwt`); the file is committed, so tests
need no Python. Run again only to change the roster.
"""

import xlwt

book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("花名册")
sheet.write(0, 0, "明月村高龄老人花名册")
headers = ["姓名", "身份证号", "性别", "出生日期", "电话", "住址", "备注"]
rows = [
    ["测试甲", "11010519400301001X", "男", "1940-03-01", "13800000000", "测试路1号", ""],
    ["测试乙", "110105194104020024", "女", "1941-04-02", "", "测试路2号", "独居"],
]
for col, header in enumerate(headers):
    sheet.write(1, col, header)
for r, row in enumerate(rows):
    for col, value in enumerate(row):
        sheet.write(2 + r, col, value)
book.add_sheet("说明").write(0, 0, "第二张表")
book.save("roster.xls")
