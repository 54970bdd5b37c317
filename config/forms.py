"""The form renderer of the whole site (``FORM_RENDERER``).

Django's ``TemplatesSetting`` looks templates up through ``TEMPLATES`` (so ours in
``templates/forms/`` win, and Django's widget templates come from the
``django.forms`` app). Every form renders through one field template,
``templates/forms/field.html``: ``{{ form }}`` for a whole form,
``{{ form.name.as_field_group }}`` for a field placed by hand. It shows the help
text and the errors under the input with the ids Django's ``aria-describedby``
points at, so a screen reader reads them with the field.
"""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
