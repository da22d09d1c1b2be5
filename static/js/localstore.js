/* WizardStore: what the phone keeps, in IndexedDB (plain IndexedDB: no wrapper needed for four
   small stores). Loaded by the pages and by the service worker.

   Stores:
   - keys: one AES-GCM key, made here, non-extractable: scripts can use it, never read it.
   - sessions (key: flow id): {flow, version, iv, data}. data is the encrypted JSON of the
     family's copy: answers, drafts, conflicts, the server's revision...
   - queue (key: change id, index: flow): {id, flow, at, iv, data}: changes not yet sent.
   - flows (key: "<flow>/<version>"): the bundles kept, per language {ready, pending, pages},
     and the language last used. Not secret: the service worker reads it to find pages.

   The version and flow id stay readable so the service worker can pick the right pages; every
   answer is encrypted at rest. A browser may close the database (iOS does under memory
   pressure): each transaction reopens it and tries once more. */
(function (root) {
  "use strict";
  var NAME = "wizard", VERSION = 1, opened = null;

  function supported() {
    return !!(root.indexedDB && root.crypto && root.crypto.subtle && root.Promise);
  }

  function open() {
    if (opened) return opened;
    opened = new Promise(function (resolve, reject) {
      var request = root.indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("keys", {keyPath: "id"});
        db.createObjectStore("sessions", {keyPath: "flow"});
        db.createObjectStore("queue", {keyPath: "id"}).createIndex("flow", "flow");
        db.createObjectStore("flows", {keyPath: "key"});
      };
      request.onsuccess = function () {
        var db = request.result;
        // Closed by the browser, or asked to close by a newer version in another tab.
        db.onclose = function () { opened = null; };
        db.onversionchange = function () { db.close(); opened = null; };
        resolve(db);
      };
      request.onerror = function () { opened = null; reject(request.error); };
      request.onblocked = function () { opened = null; reject(new Error("blocked")); };
    });
    return opened;
  }

  // work(stores) gets the object stores of one transaction and returns what to resolve
  // with: a value, or a request whose result is the value.
  function run(names, mode, work, retried) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var stores = names.map(function (n) { return tx.objectStore(n); });
        var out = work.apply(null, stores);
        tx.oncomplete = function () {
          resolve(out && typeof out === "object" && "onsuccess" in out ? out.result : out);
        };
        tx.onerror = tx.onabort = function () { reject(tx.error || new Error("aborted")); };
      });
    }).catch(function (error) {
      // "The database connection is closing": reopen once and try again.
      if (!retried && error && (error.name === "InvalidStateError" || error.name === "blocked")) {
        opened = null;
        return run(names, mode, work, true);
      }
      throw error;
    });
  }

  var keyPromise = null;
  function key() {
    if (keyPromise) return keyPromise;
    keyPromise = run(["keys"], "readonly", function (keys) { return keys.get("answers"); })
      .then(function (found) {
        if (found) return found.key;
        return root.crypto.subtle.generateKey({name: "AES-GCM", length: 256}, false,
                                              ["encrypt", "decrypt"]).then(function (made) {
          // add, not put: two tabs making a key at once keep the first one.
          return run(["keys"], "readwrite", function (keys) {
            keys.add({id: "answers", key: made});
          }).then(function () { return made; }, function () {
            keyPromise = null;
            return key();
          });
        });
      });
    keyPromise.catch(function () { keyPromise = null; });
    return keyPromise;
  }

  function seal(value) {
    var iv = root.crypto.getRandomValues(new Uint8Array(12));
    var plain = new TextEncoder().encode(JSON.stringify(value));
    return key().then(function (k) {
      return root.crypto.subtle.encrypt({name: "AES-GCM", iv: iv}, k, plain);
    }).then(function (data) { return {iv: iv, data: data}; });
  }

  function unseal(record) {
    if (!record) return Promise.resolve(null);
    return key().then(function (k) {
      return root.crypto.subtle.decrypt({name: "AES-GCM", iv: record.iv}, k, record.data);
    }).then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
  }

  function getSession(flow) {
    return run(["sessions"], "readonly", function (s) { return s.get(flow); }).then(unseal);
  }

  function putSession(flow, version, value) {
    return seal(value).then(function (sealed) {
      return run(["sessions"], "readwrite", function (s) {
        s.put({flow: flow, version: version, iv: sealed.iv, data: sealed.data});
      });
    });
  }

  function queued(flow) {
    return run(["queue"], "readonly", function (q) { return q.index("flow").getAll(flow); })
      .then(function (rows) {
        rows.sort(function (a, b) { return a.seq - b.seq; });
        return Promise.all(rows.map(function (row) {
          return unseal(row).then(function (change) { change.id = row.id; return change; });
        }));
      });
  }

  // In order of queueing, by a sequence number taken in the same transaction (the phone's
  // clock may jump back when it is set right; two tabs queue one after the other).
  function enqueue(flow, change) {
    return seal(change).then(function (sealed) {
      return run(["queue"], "readwrite", function (q) {
        q.getAll().onsuccess = function (event) { // a queue is a few dozen changes at most
          var last = 0;
          event.target.result.forEach(function (r) { last = Math.max(last, r.seq || 0); });
          q.put({id: change.id, flow: flow, seq: last + 1, iv: sealed.iv, data: sealed.data});
        };
      });
    });
  }

  function dequeue(ids) {
    return run(["queue"], "readwrite", function (q) {
      ids.forEach(function (id) { q.delete(id); });
    });
  }

  function getFlow(flow, version) {
    return run(["flows"], "readonly", function (f) { return f.get(flow + "/" + version); });
  }

  function putFlow(record) {
    record.key = record.flow + "/" + record.version;
    return run(["flows"], "readwrite", function (f) { f.put(record); });
  }

  function flowRecords() {
    return run(["flows"], "readonly", function (f) { return f.getAll(); });
  }

  // Every bundle cache a record lists (ready or being filled): the ones tidy() must keep.
  function cachesInUse() {
    return flowRecords().then(function (records) {
      var used = {};
      records.forEach(function (r) {
        Object.keys(r.langs || {}).forEach(function (lang) {
          if (r.langs[lang].ready) used[r.langs[lang].ready] = true;
          if (r.langs[lang].pending) used[r.langs[lang].pending] = true;
        });
      });
      return used;
    });
  }

  // The pages to show for a flow with no signal: the version of the family's copy (else the
  // newest kept), in the language asked for if it is kept, else the one last used.
  function pagesFor(flow, lang) {
    return Promise.all([
      run(["sessions"], "readonly", function (s) { return s.get(flow); }),
      flowRecords()
    ]).then(function (found) {
      var mine = found[0], records = found[1].filter(function (r) {
        return r.flow === flow && (!mine || r.version === mine.version);
      });
      records.sort(function (a, b) { return b.version - a.version; });
      var record = records[0];
      if (!record) return null;
      var langs = record.langs || {};
      var pick = [lang, record.lang].concat(Object.keys(langs)).filter(function (l) {
        return l && langs[l] && langs[l].ready;
      })[0];
      return pick ? {cache: langs[pick].ready, pages: langs[pick].pages, lang: pick,
                     version: record.version} : null;
    });
  }

  // The family's copy of a flow and its queue (starting again on this phone).
  function dropCopy(flow) {
    return run(["sessions", "queue"], "readwrite", function (s, q) {
      s.delete(flow);
      q.index("flow").openKeyCursor(flow).onsuccess = function (event) {
        var cursor = event.target.result;
        if (cursor) { q.delete(cursor.primaryKey); cursor.continue(); }
      };
    });
  }

  // Everything the phone keeps for a flow: its copy, its queue and its bundles' records.
  // Returns the bundle cache names, for the caller to delete.
  function forget(flow) {
    var names = [];
    return dropCopy(flow).then(flowRecords).then(function (records) {
      return run(["flows"], "readwrite", function (f) {
        records.filter(function (r) { return r.flow === flow; }).forEach(function (r) {
          Object.keys(r.langs || {}).forEach(function (l) {
            if (r.langs[l].ready) names.push(r.langs[l].ready);
            if (r.langs[l].pending) names.push(r.langs[l].pending);
          });
          f.delete(r.key);
        });
      });
    }).then(function () { return names; });
  }

  root.WizardStore = {
    supported: supported, getSession: getSession, putSession: putSession, queued: queued,
    enqueue: enqueue, dequeue: dequeue, getFlow: getFlow, putFlow: putFlow,
    flowRecords: flowRecords, cachesInUse: cachesInUse, pagesFor: pagesFor, forget: forget,
    dropCopy: dropCopy,
    // Closes the connection, as a browser may at any time (iOS under memory pressure): the
    // next transaction opens it again. Tests use it to play that browser.
    close: function () { return open().then(function (db) { db.close(); }); }
  };
})(typeof self !== "undefined" ? self : this);
