from django.core.management.base import BaseCommand

from shegong.roster.exporters import write_workbook


class Command(BaseCommand):
    help = "写出花名册模板(填写说明,社区、人员、任职三张表各带一行示例,代码列有下拉列表)"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出文件,例如 花名册模板.xlsx")

    def handle(self, *args, **opts):
        with open(opts["file"], "wb") as fh:
            write_workbook(fh, template=True)
        self.stdout.write(f"已写出模板:{opts['file']}")
