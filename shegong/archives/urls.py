"""Archive pages (8.1.2) and the two printed documents (目录 PDF, 信息表 PDF), mounted as
path("archives/", include("shegong.archives.urls")) in the "archives" namespace."""

from django.urls import path

from shegong.archives import views

app_name = "archives"

urlpatterns = [
    path("", views.archive_index, name="archive_index"),
    path("export.xlsx", views.archive_export, name="archive_export"),
    path("access-log/", views.audit_index, name="archive_audit"),
    path("corrections/", views.correction_index, name="archive_corrections"),
    path("corrections/<int:pk>/decide/", views.correction_decide, name="archive_correction_decide"),
    path("attachments/<int:pk>/", views.attachment_download_view, name="archive_attachment"),
    path("records/<int:pk>/", views.record_detail, name="archive_record"),
    path("records/<int:pk>/edit/", views.record_edit, name="archive_record_edit"),
    path("records/<int:pk>/upload/", views.record_upload, name="archive_record_upload"),
    path("records/<int:pk>/void/", views.record_void_view, name="archive_record_void"),
    path("<int:pk>/", views.archive_detail, name="archive_detail"),
    path("<int:pk>/access-log/", views.access_log_view, name="archive_access_log"),
    path("<int:pk>/records/new/", views.record_new, name="archive_record_new"),
    path("<int:pk>/transfer/", views.transfer_view, name="archive_transfer"),
    path("<int:pk>/corrections/new/", views.correction_new, name="archive_correction_new"),
    path("<int:pk>/corrections/seen/", views.corrections_seen, name="archive_corrections_seen"),
    path("<int:pk>/catalogue.pdf", views.catalogue_pdf_view, name="archive_catalogue_pdf"),
    path("<int:pk>/info-form.pdf", views.info_form_pdf_view, name="archive_info_form_pdf"),
]
