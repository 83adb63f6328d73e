from django.core.management.base import BaseCommand

from shegong.common.commands import scope_option
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.roster.exporters import write_workbook
from shegong.staffing.models import Appointment


class Command(BaseCommand):
    help = "导出花名册(社区、人员、任职三张表,与导入模板同格式);默认脱敏,--full 导出完整号码"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出 .xlsx 文件")
        parser.add_argument("--scope", default="", help="只导出该区划代码以下的数据")
        parser.add_argument("--full", action="store_true", help="导出完整的身份证号和电话(注意保管文件)")

    def handle(self, *args, **opts):
        scope = scope_option(opts["scope"])
        communities = Division.objects.filter(level=Division.Level.COMMUNITY, is_active=True, code__startswith=scope)
        people = Worker.objects.filter(community__code__startswith=scope)
        appointments = Appointment.objects.filter(community__code__startswith=scope)
        with open(opts["file"], "wb") as fh:
            write_workbook(fh, communities=communities, people=people, appointments=appointments, full=opts["full"])
        self.stdout.write(f"已导出 {communities.count()} 个社区、{people.count()} 人、{appointments.count()} 条任职到 {opts['file']}")
