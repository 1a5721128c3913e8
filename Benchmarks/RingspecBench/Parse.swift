// The floor: a bare libyaml event parse (no tree, no decoding), the parser ringspec is built on.

import CYaml

enum BareParse {
    /// Parses the bytes to the end of the stream, counting events; -1 on a parse error.
    static func events(_ bytes: UnsafeRawBufferPointer) -> Int {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return -1 }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        var event = yaml_event_t()
        var count = 0
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { return -1 }
            let done = event.type == YAML_STREAM_END_EVENT
            yaml_event_delete(&event)
            count += 1
            if done { return count }
        }
    }

    static func events(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { events($0) }
    }
}
