/**
 * The config dialog of mapillary-config: registration, the API version rows, the callback URL,
 * the "Authenticate with Mapillary" sign-in (popup, status polling, postMessage as a speed-up)
 * and the "Check" button. Loaded by nodes/mapillary-config.html after mapillary-editor.js, from
 * resources/<module name>/ below the admin root. The runtime is the truth of a sign-in: the
 * dialog polls its status route and never concludes from the popup's `closed`, which a
 * Cross-Origin-Opener-Policy makes true while the window is still open.
 */
/**
 * Node-RED loads a node's external scripts in parallel, in no set order, and runs its inline
 * scripts after all of them: so this script only defines window.MapillaryConfigEditor, and the
 * inline script of mapillary-config.html calls register() once mapillary-editor.js is there too.
 */
window.MapillaryConfigEditor = { register: function (editor) {
    var URL_PATTERN = /^https?:\/\/\S+$/i;
    var POLL_MS = 1000;
    /**
     * After the window looks closed: a slower poll. `closed` alone proves nothing: a sign-in page
     * sent with Cross-Origin-Opener-Policy cuts the link to its window, which then looks closed
     * while it is still open. Only the runtime's status route tells how the sign-in ended.
     */
    var QUIET_POLL_MS = 3000;
    /** The lifetime of a sign-in state in the runtime. */
    var SIGN_IN = editor.signIn();
    var LIFETIME_MS = SIGN_IN.lifetimeMs;
    /** The sign-in error codes the catalog words (mapillary-config.auth.errors.<code>); others show the runtime's message. */
    var ERROR_CODES = SIGN_IN.errorCodes;

    /** The sign-in under way in the open dialog (one dialog at a time), or null. */
    var current = null;

    function stopCurrent() {
        var run = current;
        current = null;
        if (run) {
            run.stopped = true;
            clearTimeout(run.timer);
            window.removeEventListener('message', run.onMessage);
        }
    }

    /** The callback URL of this editor: the editor page's path is the admin root. */
    function computedCallbackUrl() {
        return location.protocol + '//' + location.host + location.pathname.replace(/\/?$/, '/') + 'mapillary/auth/callback';
    }

    function urlSetting(v) { return !v || URL_PATTERN.test(v); }

    RED.nodes.registerType('mapillary-config', {
        category: 'config',
        color: '#05CB63',
        icon: 'mapillary.svg',
        defaults: {
            name: { value: '' },
            apiVersion: { value: 'v4' },
            graphUrl: { value: '', validate: urlSetting },
            v3Url: { value: '', validate: urlSetting },
            tilesUrl: { value: '', validate: urlSetting },
            authorizeUrl: { value: '', validate: urlSetting },
            tokenUrl: { value: '', validate: urlSetting },
            callbackUrl: { value: '', validate: urlSetting },
            timeout: { value: editor.defaultOf('timeout'), validate: editor.settingValidator('mapillary-config', 'timeout') },
            concurrency: { value: editor.defaultOf('concurrency'), validate: editor.settingValidator('mapillary-config', 'concurrency') },
            requestsPerMinute: { value: editor.defaultOf('requestsPerMinute'), validate: editor.settingValidator('mapillary-config', 'requestsPerMinute') },
            proxy: { value: '', type: 'http proxy', required: false }
        },
        credentials: {
            clientId: { type: 'text' },
            clientToken: { type: 'password' },
            clientSecret: { type: 'password' },
            userToken: { type: 'password' }
        },
        paletteLabel: function () {
            return this._('mapillary-config.paletteLabel');
        },
        label: function () {
            return this.name || this._(this.apiVersion === 'v3' ? 'mapillary-config.label.default-v3' : 'mapillary-config.label.default-v4');
        },
        oneditprepare: function () {
            var node = this;
            stopCurrent();
            node._mapillaryAuthenticated = false;

            var tabs = RED.tabs.create({
                id: 'node-config-mapillary-tabs',
                onchange: function (tab) {
                    $('#node-config-mapillary-tabs-content').children().hide();
                    $('#' + tab.id).show();
                }
            });
            tabs.addTab({ id: 'mapillary-config-tab-connection', label: this._('mapillary-config.tabs.credentials') });
            tabs.addTab({ id: 'mapillary-config-tab-advanced', label: this._('mapillary-config.tabs.advanced') });
            setTimeout(function () { tabs.resize(); }, 0);

            var apiVersion = $('#node-config-input-apiVersion');
            if (!apiVersion.val()) {
                apiVersion.val('v4');
            }
            function showGeneration() {
                var v3 = apiVersion.val() === 'v3';
                $('.mapillary-config-v3-only').toggle(v3);
                $('.mapillary-config-v4-only').toggle(!v3);
                $('#node-config-input-clientId').attr('placeholder',
                    node._(v3 ? 'mapillary-config.placeholder.clientId-v3' : 'mapillary-config.placeholder.clientId'));
            }
            apiVersion.on('change', showGeneration);
            showGeneration();
            // Text inputs, so that a value may be ${ENV_VAR}; min and max tell the range the validators check.
            editor.rangeInputs('node-config-input', ['timeout', 'concurrency', 'requestsPerMinute']);

            function t(key, subs) {
                return node._('mapillary-config.auth.editor.' + key, subs);
            }
            function t2(key, subs) {
                return node._('mapillary-config.editor2.' + key, subs);
            }

            // ---- Status line: text from the server only ever goes through .text(). ----
            var status = $('#mapillary-auth-status');
            function showStatus(kind, lines) {
                status.empty()
                    .removeClass('mapillary-auth-status-success mapillary-auth-status-error mapillary-auth-status-info')
                    .attr('data-kind', kind || '');
                if (kind) {
                    status.addClass('mapillary-auth-status-' + kind);
                }
                (lines || []).forEach(function (line, i) {
                    if (line) {
                        $('<div>').toggleClass('mapillary-auth-status-detail', i > 0).text(String(line)).appendTo(status);
                    }
                });
            }
            /** Plain words for an error `{code, message}` of the routes, then the server's own words when they add something. */
            function errorLines(error, xhr) {
                var code = error && error.code;
                var message = error && typeof error.message === 'string' ? error.message : '';
                if (!error) {
                    var httpStatus = xhr ? (xhr.status || xhr.statusText || 'no answer') : '?';
                    return [t(xhr && (xhr.status === 401 || xhr.status === 403) ? 'forbidden' : 'node-red', { status: httpStatus })];
                }
                var known = ERROR_CODES.indexOf(code) >= 0;
                // A code this dialog does not know (`no-token`, say): the runtime's own words.
                var main = (code === 'settings' || !known) && message ? message
                    : node._('mapillary-config.auth.errors.' + (known ? code : 'failed'));
                return message && message !== main ? [main, message] : [main];
            }
            function responseError(xhr) {
                var body = xhr && xhr.responseJSON;
                return body && body.error && typeof body.error === 'object' ? body.error : null;
            }

            if (node.credentials && node.credentials.has_userToken) {
                showStatus('info', [t('saved')]);
            }

            // ---- Callback URL ----
            var computed = computedCallbackUrl();
            var callbackInput = $('#node-config-input-callbackUrl');
            callbackInput.attr('placeholder', computed);
            if (!callbackInput.val()) {
                callbackInput.val(computed);
            }
            function callbackUrl() {
                return $.trim(callbackInput.val()) || computed;
            }
            $('#mapillary-callback-reset').on('click', function (event) {
                event.preventDefault();
                callbackInput.val(computed).trigger('change');
            });
            $('#mapillary-callback-copy').on('click', function (event) {
                event.preventDefault();
                var button = $(this);
                var text = callbackUrl();
                function copied(ok) {
                    if (!ok) {
                        RED.notify(t('copy-failed'), { type: 'warning', timeout: 4000 });
                        return;
                    }
                    button.find('i').removeClass('fa-clipboard').addClass('fa-check');
                    setTimeout(function () { button.find('i').removeClass('fa-check').addClass('fa-clipboard'); }, 1500);
                    RED.notify(t('copied'), { type: 'success', timeout: 2000 });
                }
                function fallback() {
                    var ok = false;
                    callbackInput.trigger('focus');
                    callbackInput[0].select();
                    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
                    copied(ok);
                }
                if (navigator.clipboard && navigator.clipboard.writeText) {
                    navigator.clipboard.writeText(text).then(function () { copied(true); }, fallback);
                } else {
                    fallback();
                }
            });

            // ---- Authenticate with Mapillary ----
            /** Deploy must keep the token the runtime now holds: `__PWRD__` means "the saved one". */
            function keepRuntimeToken() {
                $('#node-config-input-userToken').val('__PWRD__').trigger('change');
                if (node.credentials) {
                    // A token typed earlier but not deployed would otherwise be sent on Deploy and replace it.
                    delete node.credentials.userToken;
                    node.credentials.has_userToken = true;
                }
                node._mapillaryAuthenticated = true;
            }

            function finish(run) {
                if (current === run) {
                    stopCurrent();
                }
            }

            function schedule(run, ms) {
                if (current !== run) {
                    return;
                }
                clearTimeout(run.timer);
                run.timer = setTimeout(function () { poll(run); }, ms);
            }

            function windowLooksClosed(popup) {
                try {
                    return !popup || popup.closed === true;
                } catch (e) {
                    return true;
                }
            }

            function poll(run) {
                if (current !== run) {
                    return;
                }
                clearTimeout(run.timer);
                if (run.inflight) {
                    run.again = true;
                    return;
                }
                if (Date.now() > run.deadline) {
                    finish(run);
                    showStatus('error', [t('timeout')]);
                    return;
                }
                // Only a hint: the runtime's answer below decides (see QUIET_POLL_MS).
                var looksClosed = !run.lookedClosed && windowLooksClosed(run.popup);
                run.inflight = true;
                $.ajax({ url: 'mapillary/auth/status?state=' + encodeURIComponent(run.state), dataType: 'json', cache: false })
                    .done(function (answer) {
                        if (current !== run) {
                            return;
                        }
                        if (answer && answer.status === 'done') {
                            finish(run);
                            keepRuntimeToken();
                            showStatus('success', [answer.username ? t('done-user', { username: answer.username }) : t('done'), t('deploy')]);
                        } else if (answer && answer.status === 'error') {
                            finish(run);
                            showStatus('error', errorLines(answer.error || { code: 'failed' }));
                        } else if (looksClosed) {
                            // Still pending with the window out of reach: closed by the user, or
                            // open on a page that cut the link. Keep asking, more slowly.
                            run.lookedClosed = true;
                            showStatus('info', [t2('waiting-closed'), t('closed-callback')]);
                        }
                    })
                    .fail(function (xhr) {
                        if (current !== run) {
                            return;
                        }
                        if (xhr.status === 401 || xhr.status === 403) {
                            finish(run);
                            showStatus('error', errorLines(null, xhr));
                        }
                    })
                    .always(function () {
                        run.inflight = false;
                        if (current !== run) {
                            return;
                        }
                        if (run.again) {
                            run.again = false;
                            poll(run);
                        } else {
                            schedule(run, run.lookedClosed ? QUIET_POLL_MS : POLL_MS);
                        }
                    });
            }

            $('#mapillary-auth-button').on('click', function (event) {
                event.preventDefault();
                stopCurrent();
                // Opened first, in the click itself, so that pop-up blockers let it through.
                var popup = window.open('', 'mapillary-auth', 'width=640,height=760');
                if (!popup) {
                    showStatus('error', [t('popup-blocked')]);
                    return;
                }
                try {
                    if (popup.document && popup.location.href === 'about:blank') {
                        popup.document.title = 'Mapillary';
                        popup.document.body.style.fontFamily = 'sans-serif';
                        popup.document.body.textContent = t('opening');
                    }
                } catch (e) { /* a window of another site from an earlier click: it is navigated below */ }
                var run = { popup: popup, deadline: Date.now() + LIFETIME_MS };
                run.onMessage = function (message) {
                    if (current === run && run.state && message.origin === location.origin && message.data &&
                            message.data.type === 'mapillary-auth' && message.data.state === run.state) {
                        poll(run);
                    }
                };
                current = run;
                showStatus('info', [t('starting')]);
                $.ajax({
                    url: 'mapillary/auth/start',
                    type: 'POST',
                    contentType: 'application/json',
                    dataType: 'json',
                    data: JSON.stringify({
                        id: node.id,
                        apiVersion: apiVersion.val() === 'v3' ? 'v3' : 'v4',
                        clientId: $('#node-config-input-clientId').val(),
                        clientSecret: $('#node-config-input-clientSecret').val(),
                        callbackUrl: callbackUrl(),
                        graphUrl: $('#node-config-input-graphUrl').val(),
                        v3Url: $('#node-config-input-v3Url').val(),
                        authorizeUrl: $('#node-config-input-authorizeUrl').val(),
                        tokenUrl: $('#node-config-input-tokenUrl').val()
                    })
                }).done(function (answer) {
                    if (current !== run) {
                        return;
                    }
                    if (!answer || typeof answer.state !== 'string' || typeof answer.authorizeUrl !== 'string') {
                        finish(run);
                        try { popup.close(); } catch (e) { /* ignore */ }
                        showStatus('error', errorLines({ code: 'failed' }));
                        return;
                    }
                    run.state = answer.state;
                    // A window that looks closed is sent there all the same; the polls tell the rest.
                    try { popup.location.href = answer.authorizeUrl; } catch (e) { /* out of reach */ }
                    try { popup.focus(); } catch (e) { /* ignore */ }
                    window.addEventListener('message', run.onMessage);
                    showStatus('info', [t('waiting')]);
                    schedule(run, POLL_MS);
                }).fail(function (xhr) {
                    if (current !== run) {
                        return;
                    }
                    finish(run);
                    try { popup.close(); } catch (e) { /* ignore */ }
                    showStatus('error', errorLines(responseError(xhr), xhr));
                });
            });

            // ---- Check a user token: the one typed, else the one the runtime uses for this node ----
            var checks = 0;
            $('#mapillary-check-button').on('click', function (event) {
                event.preventDefault();
                // Empty or __PWRD__: the runtime checks the token it holds for this node (saved,
                // kept from Authenticate before a Deploy, or refreshed), or answers `no-token`.
                var token = $('#node-config-input-userToken').val() || '';
                var mine = ++checks;
                showStatus('info', [t('checking')]);
                $.ajax({
                    url: 'mapillary/auth/check',
                    type: 'POST',
                    contentType: 'application/json',
                    dataType: 'json',
                    data: JSON.stringify({ id: node.id, userToken: token, graphUrl: $('#node-config-input-graphUrl').val() })
                }).done(function (answer) {
                    if (mine !== checks) {
                        return;
                    }
                    if (answer && answer.username) {
                        showStatus('success', [t('check-ok', { username: answer.username })]);
                    } else {
                        showStatus('error', errorLines((answer && answer.error) || { code: 'failed' }));
                    }
                }).fail(function (xhr) {
                    if (mine === checks) {
                        showStatus('error', errorLines(responseError(xhr), xhr));
                    }
                });
            });
        },
        oneditsave: function () {
            stopCurrent();
            // Empty means "computed from the editor's address": keep it so, unless edited.
            var callbackInput = $('#node-config-input-callbackUrl');
            if ($.trim(callbackInput.val()) === computedCallbackUrl()) {
                callbackInput.val('');
            }
            // A token obtained in this dialog is a change to deploy, even though the field reads __PWRD__.
            var authenticated = this._mapillaryAuthenticated === true;
            delete this._mapillaryAuthenticated;
            return authenticated;
        },
        oneditcancel: function () {
            stopCurrent();
            delete this._mapillaryAuthenticated;
        },
        oneditdelete: function () {
            stopCurrent();
        }
    });
} };
