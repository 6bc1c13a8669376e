"""Labels, keyboard focus and phone width on every view."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.console import Console

# Every form control, button and link, with no accessible name from a label, aria-label,
# aria-labelledby or (for buttons and links) its text.
UNLABELLED = """() => Array.from(
  document.querySelectorAll("input, select, textarea, button, a[href], audio[controls]"),
).filter((control) => {
  const named = (text) => Boolean(text && text.trim());
  if (named(control.getAttribute("aria-label"))) return false;
  const by = control.getAttribute("aria-labelledby");
  const labelledBy = (id) => named(document.getElementById(id)?.textContent);
  if (by && by.split(" ").some(labelledBy)) return false;
  if (control.labels && Array.from(control.labels).some((label) => named(label.textContent))) {
    return false;
  }
  if (["BUTTON", "A"].includes(control.tagName) && named(control.textContent)) return false;
  return true;
}).map((control) => control.outerHTML.slice(0, 120))"""


def test_every_control_has_a_label(console: Console, admin_key: str) -> None:
    console.open()
    assert console.page.evaluate(UNLABELLED) == []
    console.sign_in(admin_key)
    console.page.select_option("#speech-model", "Chatterbox")
    expect(console.page.locator("[data-control]")).to_have_count(3)
    console.go("usage")
    console.go("keys")
    assert console.page.evaluate(UNLABELLED) == []


def test_focus_is_visible_on_controls(console: Console, admin_key: str) -> None:
    console.sign_in(admin_key)
    page = console.page
    page.focus("#speech-text")
    for _ in range(6):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.id, s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert style[1] != "none", style
        assert style[2] >= 2, style


def test_no_view_scrolls_sideways_on_a_phone(phone: Console, admin_key: str) -> None:
    phone.open()
    assert not phone.scrolls_sideways()
    phone.screenshot("phone-sign-in")
    phone.sign_in(admin_key)
    phone.page.select_option("#speech-model", "Chatterbox")
    assert not phone.scrolls_sideways()
    phone.screenshot("phone-playground")
    for view in ("usage", "keys"):
        phone.go(view)
        assert not phone.scrolls_sideways(), view
        phone.screenshot(f"phone-{view}")
