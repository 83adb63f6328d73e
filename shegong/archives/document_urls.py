"""The two printed archive documents (8.1.2): the catalogue (档案目录) and the information form
(社区工作者信息表). Included under "archives/" by config/urls.py."""

from django.urls import path

from shegong.archives import document_views

urlpatterns = [
    path("<int:pk>/catalogue.pdf", document_views.catalogue_pdf_view, name="archive_catalogue_pdf"),
    path("<int:pk>/info-form.pdf", document_views.info_form_pdf_view, name="archive_info_form_pdf"),
]
