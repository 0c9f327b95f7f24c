/**
 * Editor code shared by the dialogs of the three flow nodes (mapillary images, detections and
 * features) and the config dialog: the facts the runtime exports, validators, field checklists. Each node's
 * .html loads it with
 *
 *     <script src="resources/@streetflow/node-red-mapillary/mapillary-editor.js"></script>
 *
 * Node-RED serves this package's resources/ folder at resources/<module name>/ below the admin
 * root, and runs this script before the node's own script. It defines one global,
 * window.MapillaryEditor; every function takes the node type (the prefix of the dialog's ids
 * and classes, and of the catalog's keys) and what differs between the nodes. The script is
 * loaded once per node set: defining the namespace again is harmless (it keeps no state).
 */
(function () {
    'use strict';

    /**
     * The facts below come from the runtime, which defines each once (src/limits.ts,
     * src/endpoints/v4.ts, nodes/shared/oauth-routes.ts) and exports it as a node setting of
     * mapillary-config: RED.settings.mapillaryConfigLimits, .mapillaryConfigFields and
     * .mapillaryConfigSignIn. The editor keeps no copy of them.
     */
    function fact(name) {
        return (RED.settings && RED.settings[name]) || undefined;
    }

    /** A whole value `${NAME}`: read from the environment by the runtime (as nodes/shared/env.ts). */
    var ENV_PATTERN = /^\$\{\S+\}$/;
    /** A number as the runtime reads a config setting: digits, maybe a fraction; no sign, no exponent. */
    var NUMBER_PATTERN = /^\d+(\.\d+)?$/;
    var WHOLE_PATTERN = /^\d+$/;

    function isRange(r) {
        return !!r && typeof r.min === 'number' && typeof r.max === 'number' && isFinite(r.min) && isFinite(r.max) && r.min <= r.max;
    }

    /**
     * The range `{min, max, default}` of setting `key` (timeout, concurrency, requestsPerMinute,
     * maxItems, maxRequests), read when asked; undefined when the runtime gave none (the runtime
     * checks the value anyway).
     */
    function range(key) {
        var given = fact('mapillaryConfigLimits');
        return given && isRange(given[key]) ? given[key] : undefined;
    }

    /** The default of setting `key`, for a node's `defaults` ("" when unknown: the runtime's default applies). */
    function defaultOf(key) {
        var r = range(key);
        return r && typeof r.default === 'number' ? r.default : '';
    }

    /**
     * The fields a search offers, `{ all, defaults }` (detections: also `decode`, the fields that
     * decoding needs), for `kind` images, mapFeatures or detections.
     */
    function fieldChoices(kind) {
        var given = fact('mapillaryConfigFields');
        var choices = given && given[kind];
        return {
            all: choices && Array.isArray(choices.all) ? choices.all.slice() : ['id'],
            defaults: choices && Array.isArray(choices.defaults) ? choices.defaults.slice() : ['id'],
            decode: choices && Array.isArray(choices.decode) ? choices.decode.slice() : []
        };
    }

    /** The sign-in facts: `{ lifetimeMs, errorCodes }`. */
    function signIn() {
        var given = fact('mapillaryConfigSignIn') || {};
        return {
            lifetimeMs: typeof given.lifetimeMs === 'number' ? given.lifetimeMs : 0,
            errorCodes: Array.isArray(given.errorCodes) ? given.errorCodes.slice() : []
        };
    }

    function formatNumber(n) {
        return Number(n).toLocaleString('en-US');
    }

    /** Empty: the setting's default (or the message's value) applies. */
    function isBlank(value) {
        return value === undefined || value === null || String(value).trim() === '';
    }

    /**
     * A validator for a `defaults` entry: blank is valid (the default applies); otherwise a number
     * within the range of `key` (`whole`: digits only), or, with `env`, a `${ENV_VAR}`. Invalid:
     * the catalog's message <type>.<messageKey> with __min__ and __max__. It declares two
     * parameters: Node-RED (3 and later) then shows a string it returns as the field's tooltip.
     */
    function validator(type, key, messageKey, options) {
        return function (value, opt) {
            if (isBlank(value)) {
                return true;
            }
            var text = String(value).trim();
            if (options.env && ENV_PATTERN.test(text)) {
                return true;
            }
            var r = range(key);
            var n = Number(text);
            if ((options.whole ? WHOLE_PATTERN : NUMBER_PATTERN).test(text) && (!r || (n >= r.min && n <= r.max))) {
                return true;
            }
            if (!r) {
                return false;
            }
            var def = RED.nodes.getType(type);
            return def._(type + '.' + messageKey, { min: formatNumber(r.min), max: formatNumber(r.max) });
        };
    }

    /** A config setting (timeout, concurrency, requestsPerMinute): a number in range, or `${ENV_VAR}`, or empty. */
    function settingValidator(type, key) {
        return validator(type, key, 'validation.range', { env: true, whole: false });
    }

    /** A count of a flow node (maxItems, maxRequests): a whole number in range, or empty. */
    function countValidator(type, key) {
        return validator(type, key, 'validation.count', { env: false, whole: true });
    }

    /** Gives each input #<prefix>-<key> of `keys` the min and max of its range, and its default as placeholder. */
    function rangeInputs(prefix, keys) {
        keys.forEach(function (key) {
            var r = range(key);
            if (r) {
                $('#' + prefix + '-' + key).attr({ min: r.min, max: r.max, placeholder: String(r.default) });
            }
        });
    }

    /**
     * The fields saved in a node: an array, or a comma-separated string typed by hand elsewhere;
     * `defaults` when that names none.
     */
    function chosenFields(value, defaults) {
        var list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
        list = list.map(function (f) { return String(f).trim(); }).filter(function (f) { return f; });
        return list.length ? list : defaults;
    }

    /**
     * Sets each input #node-input-<key> of `values` ({ key: value }) that has no value: a node
     * imported without these properties opens with the values the runtime uses.
     */
    function fillFallbacks(values) {
        Object.keys(values).forEach(function (key) {
            if (!$('#node-input-' + key).val()) {
                $('#node-input-' + key).val(values[key]);
            }
        });
    }

    /** The area, #node-input-bbox, as a TypedInput (a string by default), its type in #node-input-bboxType. */
    function bboxInput(picker, node, type) {
        $('#node-input-bbox').typedInput({
            default: 'str',
            types: ['str', 'json', 'msg', 'flow', 'global', 'env'],
            typeField: '#node-input-bboxType'
        });
        if (picker) areaPicker(function (key) { return node._(type + '.area.' + key); });
    }

    /** Where Leaflet and Leaflet-Geoman are served from: inside the package, no CDN. */
    var VENDOR = 'resources/@streetflow/node-red-mapillary/vendor/';
    var BASEMAP_KEY = 'mapillary-area-basemap';
    var DEFAULT_BASEMAP = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
    var leafletLoading;

    /**
     * Loads Leaflet and Leaflet-Geoman once, as globals. The editor may carry an AMD loader (for
     * Monaco): it is hidden while they load, so that they define window.L.
     */
    function loadLeaflet() {
        if (leafletLoading) return leafletLoading;
        ['leaflet/leaflet.css', 'geoman/leaflet-geoman.css'].forEach(function (href) {
            $('<link rel="stylesheet">').attr('href', VENDOR + href).appendTo('head');
        });
        function script(src) {
            return new Promise(function (resolve, reject) {
                var tag = document.createElement('script');
                tag.src = VENDOR + src;
                tag.onload = resolve;
                tag.onerror = function () { reject(new Error('could not load ' + src)); };
                document.head.appendChild(tag);
            });
        }
        var amd = window.define;
        window.define = undefined;
        leafletLoading = script('leaflet/leaflet.js')
            .then(function () { return script('geoman/leaflet-geoman.js'); })
            .then(function () { window.define = amd; }, function (error) { window.define = amd; leafletLoading = undefined; throw error; });
        return leafletLoading;
    }

    /** The area of the Area field as a Leaflet layer: a box (text), or a GeoJSON polygon or box (JSON). */
    function areaLayer(L) {
        var value = $('#node-input-bbox').typedInput('value');
        var type = $('#node-input-bbox').typedInput('type');
        try {
            if (type === 'str' && /^\s*-?[\d.]+\s*,\s*-?[\d.]+\s*,\s*-?[\d.]+\s*,\s*-?[\d.]+\s*$/.test(value)) {
                var b = value.split(',').map(Number);
                if (b[0] < b[2]) return L.rectangle([[b[1], b[0]], [b[3], b[2]]]);
            }
            if (type === 'json' || (type === 'str' && /^\s*[{[]/.test(value))) {
                var parsed = JSON.parse(value);
                if (Array.isArray(parsed) && parsed.length === 4) return L.rectangle([[parsed[1], parsed[0]], [parsed[3], parsed[2]]]);
                var layer = L.geoJSON(parsed);
                var polygons = layer.getLayers().filter(function (l) { return l instanceof L.Polygon; });
                return polygons[0];
            }
        } catch (e) { /* not an area this picker can draw: start empty */ }
        return undefined;
    }

    /** Writes a drawn layer into the Area field: a box as text, a polygon as GeoJSON. */
    function writeArea(L, layer) {
        var input = $('#node-input-bbox');
        if (!layer) {
            input.typedInput('value', '');
            return;
        }
        var round = function (v) { return Math.round(v * 1e6) / 1e6; };
        if (layer instanceof L.Rectangle) {
            var bounds = layer.getBounds();
            input.typedInput('type', 'str');
            input.typedInput('value', [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map(round).join(','));
            return;
        }
        var geometry = layer.toGeoJSON(6).geometry;
        input.typedInput('type', 'json');
        input.typedInput('value', JSON.stringify(geometry));
    }

    /**
     * A map under the Area field to draw a box or a polygon, or edit the current one: Leaflet with
     * Leaflet-Geoman, shipped in the package. The basemap's URL can be changed (kept in the
     * browser); without one, or offline, the map still works on a blank background.
     */
    function areaPicker(t) {
        var row = $('#node-input-bbox').closest('.form-row');
        var button = $('<button type="button" class="red-ui-button mapillary-area-map" style="margin-left: 4px"><i class="fa fa-map"></i></button>')
            .attr('title', t('pick'))
            .appendTo(row);
        var panel = $('<div class="mapillary-area-picker" style="display: none; margin: 6px 0 12px 0"></div>').insertAfter(row);
        var mapDiv = $('<div class="mapillary-area-map-canvas" style="height: 320px; border: 1px solid var(--red-ui-form-input-border-color, #ccc)"></div>').appendTo(panel);
        var basemapRow = $('<div style="margin-top: 4px; display: flex; gap: 6px; align-items: center"></div>').appendTo(panel);
        $('<span style="font-size: 12px"></span>').text(t('basemap')).appendTo(basemapRow);
        var basemapInput = $('<input type="text" class="mapillary-area-basemap" style="flex: 1; font-size: 12px">')
            .attr('placeholder', t('no-basemap'))
            .appendTo(basemapRow);
        var stored = localStorage.getItem(BASEMAP_KEY);
        basemapInput.val(stored === null ? DEFAULT_BASEMAP : stored);
        var map;
        var tiles;
        var drawn;
        function setBasemap(L) {
            if (tiles) map.removeLayer(tiles);
            tiles = undefined;
            var url = String(basemapInput.val() || '').trim();
            localStorage.setItem(BASEMAP_KEY, url);
            if (url) tiles = L.tileLayer(url, { maxZoom: 19, attribution: '&copy; OpenStreetMap contributors' }).addTo(map);
        }
        function keep(L, layer) {
            if (drawn && drawn !== layer) map.removeLayer(drawn);
            drawn = layer;
            writeArea(L, drawn);
            if (!drawn) return;
            drawn.on('pm:edit pm:dragend', function () { writeArea(L, drawn); });
        }
        button.on('click', function () {
            panel.toggle();
            if (!panel.is(':visible')) return;
            loadLeaflet().then(function () {
                var L = window.L;
                if (!map) {
                    map = L.map(mapDiv[0], { worldCopyJump: true }).setView([20, 0], 2);
                    setBasemap(L);
                    basemapInput.on('change', function () { setBasemap(L); });
                    map.pm.addControls({
                        position: 'topleft', drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawCircle: false, drawText: false,
                        cutPolygon: false, rotateMode: false, drawRectangle: true, drawPolygon: true, editMode: true, dragMode: true, removalMode: true
                    });
                    map.on('pm:create', function (event) { keep(L, event.layer); });
                    map.on('pm:remove', function (event) { if (event.layer === drawn) keep(L, undefined); });
                    var current = areaLayer(L);
                    if (current) {
                        drawn = current.addTo(map);
                        drawn.on('pm:edit pm:dragend', function () { writeArea(L, drawn); });
                        map.fitBounds(drawn.getBounds(), { maxZoom: 16 });
                    }
                }
                map.invalidateSize();
            }, function (error) {
                RED.notify(t('unavailable') + ' ' + error.message, 'error');
            });
        });
    }

    /**
     * Fills #<type>-fields with one checkbox #<type>-field-<field> per entry of `fields`, its row's
     * tooltip the catalog's <type>.fields.<field>. Checked: the fields `node` saved (see
     * chosenFields, `defaults` when none); `id` is always returned, so always checked and locked.
     */
    function fieldsChecklist(node, type, fields, defaults) {
        var chosen = chosenFields(node.fields, defaults);
        var list = $('#' + type + '-fields');
        fields.forEach(function (field) {
            var id = type + '-field-' + field;
            var row = $('<label class="mapillary-field"></label>')
                .attr('for', id)
                .attr('title', node._(type + '.fields.' + field))
                .css({ display: 'block', width: 'auto', margin: '0 0 3px 0', whiteSpace: 'nowrap' })
                .appendTo(list);
            $('<input type="checkbox">')
                .attr('id', id)
                .val(field)
                .css({ width: 'auto', margin: '0 6px 2px 0', verticalAlign: 'middle' })
                .prop('checked', field === 'id' || chosen.indexOf(field) !== -1)
                .prop('disabled', field === 'id')
                .appendTo(row);
            $('<span></span>').text(field).css({ fontFamily: 'monospace', fontSize: '12px' }).appendTo(row);
        });
    }

    /** The button #<type>-fields-defaults checks exactly the `defaults` in the checklist. */
    function defaultFieldsButton(type, defaults) {
        $('#' + type + '-fields-defaults').on('click', function (event) {
            event.preventDefault();
            $('#' + type + '-fields input[type="checkbox"]').each(function () {
                $(this).prop('checked', defaults.indexOf($(this).val()) !== -1);
            });
        });
    }

    /** The fields checked in the checklist, in its order (what oneditsave stores in `fields`). */
    function checkedFields(type) {
        var fields = [];
        $('#' + type + '-fields input[type="checkbox"]').each(function () {
            if ($(this).prop('checked')) {
                fields.push($(this).val());
            }
        });
        return fields;
    }

    /**
     * Rows that only one API generation uses follow the configuration selected in
     * #node-input-mapillary: .<type>-v3-only show for a v3 config node, .<type>-v4-only otherwise.
     * Now, and on every change of the selection (the editor announces a config node added or
     * edited from inside the dialog as one).
     */
    function followApiVersion(type) {
        function showGeneration() {
            var config = RED.nodes.node($('#node-input-mapillary').val());
            var v3 = !!config && config.apiVersion === 'v3';
            $('.' + type + '-v3-only').toggle(v3);
            $('.' + type + '-v4-only').toggle(!v3);
        }
        $('#node-input-mapillary').on('change', showGeneration);
        showGeneration();
    }

    /** A node's label from its Area: the text, or <type>.<value> for msg, flow, env... */
    function areaLabel(node) {
        return !node.bboxType || node.bboxType === 'str' ? node.bbox : node.bboxType + '.' + node.bbox;
    }

    /**
     * The registration of a flow node (images, detections, features): what the three share
     * (palette, config, area, fields, caps, output, labels, the dialog's common parts), with what
     * differs in `spec`: `fields` (the kind of field choices: images, mapFeatures, detections),
     * `defaults` (its own settings, merged in), `fallbacks` (more settings than output and format
     * that a dialog fills with their default when the node was saved without them), `label(node)` (a label before the palette label,
     * or nothing), `icon` (the palette icon), `areaPicker` (a map to draw the area on), and
     * `prepare(node, choices)` / `save(node)` for its own dialog parts.
     */
    function flowNode(type, spec) {
        var choices = fieldChoices(spec.fields);
        var defaults = {
            name: { value: '' },
            mapillary: { value: '', type: 'mapillary-config', required: true },
            bbox: { value: '' },
            bboxType: { value: 'str' },
            fields: { value: choices.defaults.slice() },
            maxItems: { value: defaultOf('maxItems'), validate: countValidator(type, 'maxItems') },
            maxRequests: { value: defaultOf('maxRequests'), validate: countValidator(type, 'maxRequests') },
            output: { value: 'page' },
            format: { value: 'json' }
        };
        Object.keys(spec.defaults || {}).forEach(function (key) {
            defaults[key] = spec.defaults[key];
        });
        return {
            category: 'mapillary',
            color: '#05CB63',
            // An icon that says what the node does (Font Awesome, as Node-RED ships it).
            icon: spec.icon || 'mapillary.svg',
            inputs: 1,
            outputs: 2,
            defaults: defaults,
            paletteLabel: function () {
                return this._(type + '.paletteLabel');
            },
            label: function () {
                // On the canvas "mapillary images" (the palette's short label is under the mapillary category).
                return this.name || (spec.label && spec.label(this)) || this._(type + '.nodeLabel');
            },
            labelStyle: function () {
                return this.name ? 'node_label_italic' : '';
            },
            inputLabels: function () {
                return this._(type + '.inputLabel');
            },
            outputLabels: function (index) {
                return this._(index === 0 ? type + '.outputLabels.items' : type + '.outputLabels.done');
            },
            oneditprepare: function () {
                // A node saved without these opens with their defaults, the values the runtime uses.
                var fallbacks = {};
                ['output', 'format'].concat(spec.fallbacks || []).forEach(function (key) {
                    fallbacks[key] = defaults[key].value;
                });
                rangeInputs('node-input', ['maxItems', 'maxRequests']);
                fillFallbacks(fallbacks);
                bboxInput(spec.areaPicker, this, type);
                // Fields: one checkbox per field the runtime offers; id is always returned.
                fieldsChecklist(this, type, choices.all, choices.defaults);
                if (spec.prepare) {
                    spec.prepare(this, choices);
                }
                followApiVersion(type);
            },
            oneditsave: function () {
                this.fields = checkedFields(type);
            }
        };
    }

    window.MapillaryEditor = {
        flowNode: flowNode,
        areaLabel: areaLabel,
        range: range,
        defaultOf: defaultOf,
        fieldChoices: fieldChoices,
        signIn: signIn,
        settingValidator: settingValidator,
        countValidator: countValidator,
        rangeInputs: rangeInputs,
        chosenFields: chosenFields,
        fillFallbacks: fillFallbacks,
        bboxInput: bboxInput,
        fieldsChecklist: fieldsChecklist,
        defaultFieldsButton: defaultFieldsButton,
        checkedFields: checkedFields,
        followApiVersion: followApiVersion
    };
})();
