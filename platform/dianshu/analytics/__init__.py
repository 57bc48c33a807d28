"""Hospital analytics (SPEC section 10): summary tables per hospital, department, DRG and month
computed set-wise by the job analytics.refresh (refresh.py) and read by the dashboards (views.py),
which never read raw cases."""
