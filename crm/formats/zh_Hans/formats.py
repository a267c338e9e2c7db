"""Number formats for Simplified Chinese, over Django's own (django/conf/locale/zh_Hans/formats.py).

Django's zh_Hans sets THOUSAND_SEPARATOR = "" (and groups by four), so every amount
formatted with grouping lost its separators in Chinese: "CNY 1234567.00". Business
and financial Chinese writes amounts grouped by three with commas ("1,234,567.00"),
as banks and invoices do. Everything not set here comes from Django's module.
"""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
