from django import forms

from crm.approvals.models import ApprovalPolicy
from crm.web.forms import BootstrapFormMixin


class PolicyForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = ApprovalPolicy
        fields = ["enabled", "bulk_threshold", "expiry_hours"]
