// Login: user name and password -> session cookie and CSRF token.
import { api, h } from "../core.js";
import { loggedIn, navigate } from "../main.js";

export function mount(root, rest) {
  const user = h("input", { id: "login-user", name: "user", autocomplete: "username", required: true });
  const password = h("input", { id: "login-password", name: "password", type: "password",
                                autocomplete: "current-password", required: true });
  const error = h("div", { class: "error-box", id: "login-error" });
  const button = h("button", { class: "primary", type: "submit", id: "login-submit" }, "Log in");
  const form = h("form", { class: "panel login" },
    h("h2", {}, "Log in to the operations console"),
    h("label", { for: "login-user" }, "User"), user,
    h("label", { for: "login-password" }, "Password"), password,
    error, button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      const doc = await api("/api/login", { method: "POST", body: { user: user.value, password: password.value } });
      await loggedIn(doc);
      if (root.dataset.view !== "login") return;          // the user went to a view meanwhile
      const back = "/" + rest.map(encodeURIComponent).join("/");
      navigate(back === "/" || back === "/login" ? "/passes" : back);
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
      password.select();
    }
  });
  root.append(form);
  user.focus();
}
