// The issue editor: live preview and progress. A file, so the page's policy needs no inline script.
// Live preview: the unsaved form is rendered on the server a moment after each change.
(function () {
  var form = document.getElementById('editor');
  if (!form) { return; }
  var timer = null;
  function refresh() {
    fetch(form.dataset.preview, {method: 'POST', body: new FormData(form), credentials: 'same-origin'})
      .then(function (r) { return r.json(); }).then(function (d) {
        var note = document.getElementById('preview-note');
        if (d.error) { note.textContent = '(' + d.error + ')'; return; }
        note.textContent = '(unsaved changes shown' +
          (d.clipped ? '; ' + d.kilobytes + ' KB of HTML: Gmail clips it past about 102 KB' : '') + ')';
        document.querySelectorAll('.previews iframe').forEach(function (f) { f.srcdoc = d.html; });
        document.getElementById('text-preview').textContent = d.text;
      });
  }
  form.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(refresh, 500); });
})();
// Keeps the progress bar current while the issue is going out.
(function () {
  var section = document.getElementById('progress');
  var shown = document.getElementById('status').textContent;
  function update() {
    fetch(section.dataset.url, {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (d) {
      ['sent', 'failed', 'pending', 'total'].forEach(function (k) { document.getElementById(k).textContent = d.counts[k]; });
      var bar = document.getElementById('bar');
      bar.max = d.counts.total || 1; bar.value = d.counts.sent + d.counts.failed;
      if (d.status !== shown) { location.reload(); return; }  // new state, new buttons
      setTimeout(update, 2000);
    });
  }
  if (shown === 'sending' || shown === 'scheduled') { setTimeout(update, 2000); }
})();
