from django_tasks import task

from shegong.roster.services import import_job_run


@task()
def run_import_job(job_id: int, commit: bool) -> None:
    import_job_run(job_id=job_id, commit=commit)
