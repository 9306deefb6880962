import pytest

from clicktocall.models import CallAttempt

pytestmark = pytest.mark.django_db(transaction=True)


def test_plain_form_post_lands_on_thank_you_page(page, customer_site, app_url, line, outbox):
    thanks = customer_site.add_page("thanks.html", "<h1>Thank you</h1>")
    form = customer_site.add_page(
        "form.html",
        f"""<form method="post" action="{app_url}/outgoing/">
        <input type="hidden" name="campaign_line" value="8559299898">
        <input type="hidden" name="revmsghtml" value="{thanks}">
        <input name="phone" aria-label="phone"><button>Call me</button></form>""",
    )
    page.goto(form)
    page.fill("input[name=phone]", "617.523.2338")
    page.click("button")
    page.wait_for_url(thanks)
    assert page.inner_text("h1") == "Thank you"
    assert CallAttempt.objects.get().outcome == "placed"
    assert [c.to for c in outbox] == ["+16175232338"]
