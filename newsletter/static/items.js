// The issue editor's items in order: drag a row by its handle, press the arrow keys on the
// handle, or use the up and down buttons. Each move rewrites the hidden order numbers, which are
// what the form sends (and what people type without JavaScript).
(function () {
  var table = document.querySelector('table.items');
  if (!table) { return; }
  var body = table.tBodies[0];
  var form = table.closest('form');
  var status = document.getElementById('items-status');
  table.classList.add('js-order');

  function renumber() {
    Array.prototype.forEach.call(body.rows, function (row, index) {
      row.querySelector('input[name=item_position]').value = index + 1;
      // The server reads "keep" by row index: it follows the row.
      row.querySelector('input[name=item_keep]').value = index;
    });
    form.dispatchEvent(new Event('input', {bubbles: true}));  // the live preview follows
  }
  function say(row) {
    var title = row.querySelector('[name=item_title]').value;
    status.textContent = title + ': position ' + (row.sectionRowIndex + 1) + ' of ' + body.rows.length;
  }
  function move(row, step, focus) {
    var other = step < 0 ? row.previousElementSibling : row.nextElementSibling;
    if (!other) { return; }
    body.insertBefore(row, step < 0 ? other : other.nextElementSibling);
    renumber();
    say(row);
    focus.focus();
  }

  body.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-move]');
    if (button) { move(button.closest('tr'), Number(button.dataset.move), button); }
  });
  body.addEventListener('keydown', function (event) {
    var handle = event.target.closest('.handle');
    if (!handle || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) { return; }
    event.preventDefault();
    move(handle.closest('tr'), event.key === 'ArrowUp' ? -1 : 1, handle);
  });

  var dragged = null;
  function unmark() {
    body.querySelectorAll('.drop-before').forEach(function (row) { row.classList.remove('drop-before'); });
  }
  body.addEventListener('pointerdown', function (event) {
    var handle = event.target.closest('.handle');
    if (handle) { handle.closest('tr').draggable = true; }
  });
  body.addEventListener('dragstart', function (event) {
    dragged = event.target.closest('tr');
    dragged.classList.add('dragging');
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', '');
  });
  body.addEventListener('dragover', function (event) {
    var row = event.target.closest('tr');
    if (!dragged || !row) { return; }
    event.preventDefault();
    unmark();
    var box = row.getBoundingClientRect();
    var before = event.clientY < box.top + box.height / 2 ? row : row.nextElementSibling;
    if (before) { before.classList.add('drop-before'); }
  });
  body.addEventListener('drop', function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    var before = body.querySelector('.drop-before');
    body.insertBefore(dragged, before);  // null: the end
    renumber();
    say(dragged);
  });
  body.addEventListener('dragend', function () {
    unmark();
    if (dragged) { dragged.classList.remove('dragging'); dragged.draggable = false; }
    dragged = null;
  });
})();
