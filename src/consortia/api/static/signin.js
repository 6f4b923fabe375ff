// Who is reading this node's explorer: the header's badge (address, organisation, role, sign out)
// and the sign-in panel a 401 shows. The explorer never holds a private key: an identity signs in
// with `consortia api signin --key FILE` (one signed request; it prints a link with a session
// token), the node's operator with the one-time link the node logs at start.
import { signInWith } from "./api.js";
import { clear, h, short } from "./dom.js";

let who = null;

export function setWho(value) { who = value; }

// "the node's operator", "0x1234…abcd (member of bank-a)", or "anyone" on an open API.
export function whoText() {
  if (!who) return "a visitor who has not signed in";
  if (who.api_access === "open") return "anyone";
  if (who.operator) return "the node's operator";
  return `${short(who.address)} (${who.role} of ${who.org})`;
}

export function whoBadge(onSignOut) {
  const box = clear(document.getElementById("who"));
  if (who && who.api_access === "open") {
    box.append(h("span", { class: "badge", title: "this node's API is open: no sign-in" }, "open API"));
    return;
  }
  if (!who) {
    box.append(h("span", { class: "badge bad", id: "who-badge" }, "not signed in"));
    return;
  }
  const label = who.operator ? "operator" : `${short(who.address)} · ${who.org} · ${who.role}`;
  const title = who.operator ? "signed in with the node's one-time link: staff of this node"
    : `${who.address} (${who.org}, ${who.org_role}); ${who.oversees ? "oversees: reads everything" : who.staff ? "staff" : "reads what concerns it"}`;
  box.append(h("span", { class: "badge ok", id: "who-badge", title }, label), " ",
    h("button", { id: "sign-out", class: "link", onclick: onSignOut }, "sign out"));
}

// The panel a page shows when the node asks who is reading.
export function signInPanel(reason, onSignedIn) {
  const node = location.origin;
  const input = h("input", { id: "signin-token", autocomplete: "off", spellcheck: "false",
    placeholder: "a session token (cs1…) or the link that carries it" });
  const said = h("p", { class: "error", id: "signin-error" });
  const form = h("form", { id: "signin-form", onsubmit: async (event) => {
    event.preventDefault();
    said.textContent = "";
    try {
      await signInWith(input.value);
      input.value = "";
      onSignedIn();
    } catch (e) {
      said.textContent = `${e.code || "error"}: ${e.message}`;
    }
  } }, input, " ", h("button", { type: "submit" }, "Sign in"));
  return h("section", { id: "signin", class: "signin" },
    h("h2", {}, "Sign in to this node"),
    h("p", {}, "This chain has organisations: its node shows each identity what it may see. ",
      h("span", { class: "muted" }, reason || "")),
    h("ol", {},
      h("li", {}, "With your identity's key (it never enters the browser): run ",
        h("code", {}, `consortia api signin --key YOUR.key --node ${node}`),
        " and open the address it prints."),
      h("li", {}, "The node's operator: open the one-time sign-in link the node wrote to its log at start (",
        h("code", {}, `${node}/#signin=…`), ")."),
      h("li", {}, "Or paste a session token here:")),
    form, said,
    h("p", { class: "small" }, "A session lasts 15 minutes and renews itself while this tab is open; it is kept for this tab only."));
}
