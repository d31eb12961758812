import CXKBCommon

/// Key codes to text through libxkbcommon and the system's XKB data (no X server), one keymap per
/// device from its layout name: `us`, `de`, `fr`, `be`, ... any XKB layout, with Shift, AltGr,
/// CapsLock and NumLock. Dead keys type their spacing character (a scanner's `^` is a `^`).
public final class XKBKeyDecoder: KeyDecoding {
    public let layout: String
    public let variant: String
    private let context: OpaquePointer
    private let keymap: OpaquePointer
    private var state: OpaquePointer
    private let numLockOn: Bool
    /// Reused for every key: one allocation per device, not per key.
    private var utf8Buffer = [CChar](repeating: 0, count: 16)

    public struct UnknownLayout: Error, CustomStringConvertible {
        public var layout: String
        public var description: String {
            "keyboard layout '\(layout)' is not in the system's XKB data; use an XKB layout name such as us, de, fr, be (package xkb-data)"
        }
    }

    /// - Parameter numLockOn: scanners that type keypad digits expect NumLock on.
    public init(layout: String, variant: String = "", numLockOn: Bool = true) throws {
        guard !layout.isEmpty, layout.count <= 32,
            layout.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }),
            variant.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { throw UnknownLayout(layout: layout) }
        guard let context = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES) else { throw UnknownLayout(layout: layout) }
        xkb_context_set_log_level(context, XKB_LOG_LEVEL_CRITICAL)
        let keymap: OpaquePointer? = "evdev".withCString { rules in
            "pc105".withCString { model in
                layout.withCString { layoutName in
                    variant.withCString { variantName in
                        var names = xkb_rule_names(rules: rules, model: model, layout: layoutName, variant: variantName, options: nil)
                        return xkb_keymap_new_from_names(context, &names, XKB_KEYMAP_COMPILE_NO_FLAGS)
                    }
                }
            }
        }
        guard let keymap else {
            xkb_context_unref(context)
            throw UnknownLayout(layout: layout + (variant.isEmpty ? "" : "(\(variant))"))
        }
        self.layout = layout
        self.variant = variant
        self.context = context
        self.keymap = keymap
        self.numLockOn = numLockOn
        self.state = Self.freshState(keymap, numLockOn: numLockOn)
    }

    deinit {
        xkb_state_unref(state)
        xkb_keymap_unref(keymap)
        xkb_context_unref(context)
    }

    private static func freshState(_ keymap: OpaquePointer, numLockOn: Bool) -> OpaquePointer {
        let state = xkb_state_new(keymap)!
        if numLockOn {
            let index = xkb_keymap_mod_get_index(keymap, XKB_MOD_NAME_NUM)
            if index != XKB_MOD_INVALID {
                xkb_state_update_mask(state, 0, 0, 1 << index, 0, 0, 0)
            }
        }
        return state
    }

    public func press(_ code: UInt16) -> String? {
        let keycode = xkb_keycode_t(code) + 8  // evdev → XKB key codes
        let length = Int(xkb_state_key_get_utf8(state, keycode, &utf8Buffer, utf8Buffer.count))
        var text: String?
        if length > 0 {
            text = utf8Buffer.withUnsafeBufferPointer { characters in
                characters.withMemoryRebound(to: UInt8.self) { String(decoding: $0.prefix(min(length, 15)), as: UTF8.self) }
            }
        } else {
            text = Self.spacingCharacter(forDeadKey: xkb_state_key_get_one_sym(state, keycode))
        }
        xkb_state_update_key(state, keycode, XKB_KEY_DOWN)
        return text
    }

    public func release(_ code: UInt16) {
        xkb_state_update_key(state, xkb_keycode_t(code) + 8, XKB_KEY_UP)
    }

    public func reset() {
        xkb_state_unref(state)
        state = Self.freshState(keymap, numLockOn: numLockOn)
    }

    /// XKB dead keysyms (0xfe50...) and the character a scanner meant by them.
    private static func spacingCharacter(forDeadKey keysym: xkb_keysym_t) -> String? {
        switch keysym {
        case 0xfe50: "`"  // dead_grave
        case 0xfe51: "´"  // dead_acute
        case 0xfe52: "^"  // dead_circumflex
        case 0xfe53: "~"  // dead_tilde
        case 0xfe57: "¨"  // dead_diaeresis
        default: nil
        }
    }
}
