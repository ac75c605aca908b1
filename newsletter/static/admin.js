// The admin's small helps: a dialog before an action that cannot be undone, and copying a link.
// Without JavaScript the forms still ask: a box to tick or an address to type.
(function () {
  var dialog = null;
  function ask(text, label, yes) {
    if (!dialog) {
      dialog = document.createElement('dialog');
      dialog.className = 'confirm';
      // Named by its question, which a screen reader reads as the dialog opens.
      dialog.setAttribute('aria-labelledby', 'confirm-question');
      dialog.innerHTML = '<form method="dialog"><p id="confirm-question"></p><div class="buttons">' +
        '<button class="secondary" value="no">Keep it</button><button class="danger" value="yes"></button></div></form>';
      document.body.appendChild(dialog);
    }
    dialog.querySelector('p').textContent = text;
    dialog.querySelector('button.danger').textContent = label;
    dialog.onclose = function () { if (dialog.returnValue === 'yes') { yes(); } };
    dialog.returnValue = '';
    dialog.showModal();
    dialog.querySelector('button.secondary').focus();
  }
  if (typeof HTMLDialogElement === 'undefined') { return; }
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    var label = form.querySelector('.confirm-tick');
    var tick = label && label.querySelector('input');
    if (!tick) { return; }
    label.hidden = true;
    tick.required = false;
    form.addEventListener('submit', function (event) {
      if (tick.checked) { return; }
      event.preventDefault();
      ask(form.dataset.confirm, form.querySelector('button[type=submit]').textContent.trim(), function () {
        tick.checked = true;
        form.submit();
      });
    });
  });
})();
(function () {
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var field = document.getElementById(button.dataset.copy);
      field.select();
      navigator.clipboard.writeText(field.value).then(function () { button.textContent = 'Copied'; },
        function () { document.execCommand('copy'); button.textContent = 'Copied'; });
    });
  });
})();
