// ScenarioSchema: the JSON Schema (draft-07) of the scenario format, written by hand from the
// decoder's key lists (Decode/*.swift); `ringspec schema` prints it and docs/ringspec.schema.json
// is a copy (a test keeps the two equal). A key added to the decoder must be added here.

public enum ScenarioSchema {
    public static let json = #"""
{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "urn:ringspec:scenario:1",
  "title": "ringspec scenario (format version 1)",
  "description": "One document of a ringspec scenario file. Use with `# yaml-language-server: $schema=PATH` on the first line.",
  "type": "object",
  "additionalProperties": false,
  "patternProperties": {
    "^x-": {
      "description": "Ignored: a place to define anchors (`x-common: &common {...}`) for aliases and merge keys."
    }
  },
  "required": [
    "scenario"
  ],
  "properties": {
    "scenario": {
      "type": [
        "string",
        "number",
        "boolean"
      ],
      "minLength": 1
    },
    "description": {
      "type": [
        "string",
        "number",
        "boolean"
      ]
    },
    "tags": {
      "type": "array",
      "items": {
        "type": [
          "string",
          "number",
          "boolean"
        ]
      }
    },
    "points": {
      "description": "A number from 0 to 1000000 (a fraction too: 0.5); quoted, the same number.",
      "anyOf": [
        {
          "type": "number",
          "minimum": 0,
          "maximum": 1000000
        },
        {
          "type": "string",
          "pattern": "\#(SchemaNumberPattern.decimal)"
        }
      ]
    },
    "partial": {
      "$ref": "#/definitions/flag"
    },
    "extends": {
      "type": [
        "string",
        "number",
        "boolean"
      ]
    },
    "machine": {
      "$ref": "#/definitions/machine"
    },
    "kernel": {
      "$ref": "#/definitions/kernel"
    },
    "processes": {
      "type": "array",
      "items": {
        "$ref": "#/definitions/process"
      }
    },
    "steps": {
      "type": "array",
      "items": {
        "$ref": "#/definitions/step"
      }
    },
    "expect": {
      "anyOf": [
        {
          "type": "null"
        },
        {
          "$ref": "#/definitions/finalExpect"
        }
      ]
    }
  },
  "definitions": {
    "levelFlags": {
      "description": "The flags of one upper-level entry on a mapping's walk (pml4e, pdpte, pde).",
      "type": "object",
      "additionalProperties": false,
      "properties": {
\#(pageFlagProperties(indent: 8))
      }
    },
    "flag": {
      "description": "true or false; 1 and 0 are accepted too, quoted or not (YAML 1.1's other booleans as well: yes/no, on/off, y/n in their spellings).",
      "enum": [
        true,
        false,
        1,
        0,
        "1",
        "0",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "True",
        "False",
        "TRUE",
        "FALSE",
        "Yes",
        "No",
        "On",
        "Off",
        "YES",
        "NO",
        "ON",
        "OFF",
        "y",
        "n",
        "Y",
        "N"
      ]
    },
    "integer": {
      "description": "An integer: decimal, 0x hex, 0b binary or 0o octal, `_` allowed as a separator.",
      "anyOf": [
        {
          "type": "integer"
        },
        {
          "type": "string",
          "pattern": "\#(SchemaNumberPattern.integer)"
        }
      ]
    },
    "ioPorts": {
      "description": "The I/O ports a TSS's I/O permission bit map grants: ports (0 to 0xffff) and ranges {from, to}, both ends included. The map is built at iomap (default 0x68) with every other bit set and a trailing 0xff byte, and the TSS limit ends on that byte unless limit is given.",
      "type": "array",
      "items": {
        "anyOf": [
          {
            "$ref": "#/definitions/integer"
          },
          {
            "type": "object",
            "properties": {
              "from": {
                "$ref": "#/definitions/integer"
              },
              "to": {
                "$ref": "#/definitions/integer"
              }
            },
            "required": [
              "from",
              "to"
            ],
            "additionalProperties": false
          }
        ]
      }
    },
    "privilege": {
      "description": "A privilege level, 0 to 3 (DPL, CPL, RPL, IOPL), in any spelling of a number.",
      "anyOf": [
        {
          "type": "integer",
          "minimum": 0,
          "maximum": 3
        },
        {
          "type": "string",
          "pattern": "\#(SchemaNumberPattern.oneOf(Array(0...3), minusZero: true))"
        }
      ]
    },
    "ist": {
      "description": "An IST index, 0 (none) to 7, in any spelling of a number.",
      "anyOf": [
        {
          "type": "integer",
          "minimum": 0,
          "maximum": 7
        },
        {
          "type": "string",
          "pattern": "\#(SchemaNumberPattern.oneOf(Array(0...7), minusZero: true))"
        }
      ]
    },
    "params": {
      "description": "A call gate's parameter count, 0 to 31, in any spelling of a number.",
      "anyOf": [
        {
          "type": "integer",
          "minimum": 0,
          "maximum": 31
        },
        {
          "type": "string",
          "pattern": "\#(SchemaNumberPattern.oneOf(Array(0...31), minusZero: true))"
        }
      ]
    },
    "selector": {
      "description": "A selector: a number, NAME (RPL 0, GDT), NAME:RPL, or {index, ti, rpl}.",
      "anyOf": [
        {
          "$ref": "#/definitions/integer"
        },
        {
          "type": "string",
          "pattern": "^[A-Za-z_][A-Za-z0-9_.-]*(:[0-3])?$"
        },
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "index": {
              "$ref": "#/definitions/integer"
            },
            "ti": {
              "enum": [
                "gdt",
                "ldt"
              ]
            },
            "rpl": {
              "$ref": "#/definitions/privilege"
            }
          },
          "required": [
            "index"
          ]
        }
      ]
    },
    "vector": {
      "description": "An interrupt vector: a number or an exception name (GP, #GP, PF, ...).",
      "anyOf": [
        {
          "$ref": "#/definitions/integer"
        },
        {
          "type": "string"
        }
      ]
    },
    "cr0": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "wp": {
          "$ref": "#/definitions/flag"
        },
        "am": {
          "$ref": "#/definitions/flag"
        }
      }
    },
    "cr4": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "pse": {
          "$ref": "#/definitions/flag"
        },
        "pae": {
          "$ref": "#/definitions/flag"
        },
        "pge": {
          "$ref": "#/definitions/flag"
        },
        "smep": {
          "$ref": "#/definitions/flag"
        },
        "smap": {
          "$ref": "#/definitions/flag"
        },
        "pke": {
          "$ref": "#/definitions/flag"
        },
        "pcide": {
          "$ref": "#/definitions/flag"
        }
      }
    },
    "efer": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "sce": {
          "$ref": "#/definitions/flag"
        },
        "nxe": {
          "$ref": "#/definitions/flag"
        }
      }
    },
    "rflags": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "if": {
          "$ref": "#/definitions/flag"
        },
        "ac": {
          "$ref": "#/definitions/flag"
        },
        "tf": {
          "$ref": "#/definitions/flag"
        },
        "df": {
          "$ref": "#/definitions/flag"
        },
        "nt": {
          "$ref": "#/definitions/flag"
        },
        "of": {
          "$ref": "#/definitions/flag"
        },
        "cf": {
          "$ref": "#/definitions/flag"
        },
        "rf": {
          "$ref": "#/definitions/flag"
        },
        "iopl": {
          "$ref": "#/definitions/privilege"
        }
      }
    },
    "msrs": {
      "type": "object",
      "description": "MSR name (IA32_STAR, ...) or number -> value; IA32_SYSENTER_CS also takes a selector.",
      "properties": {
        "IA32_SYSENTER_CS": {
          "$ref": "#/definitions/selector"
        },
        "ia32_sysenter_cs": {
          "$ref": "#/definitions/selector"
        },
        "0x174": {
          "$ref": "#/definitions/selector"
        },
        "372": {
          "$ref": "#/definitions/selector"
        }
      },
      "additionalProperties": {
        "$ref": "#/definitions/integer"
      }
    },
    "descriptor": {
      "description": "A GDT/LDT entry; `null` is an empty slot.",
      "anyOf": [
        {
          "type": "null"
        },
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "name": {
              "type": [
                "string",
                "number",
                "boolean"
              ]
            },
            "type": {
              "enum": [
                "code",
                "data",
                "tss32",
                "tss64",
                "ldt",
                "call_gate",
                "task_gate"
              ]
            },
            "dpl": {
              "$ref": "#/definitions/privilege"
            },
            "present": {
              "$ref": "#/definitions/flag"
            },
            "base": {
              "$ref": "#/definitions/integer"
            },
            "limit": {
              "$ref": "#/definitions/integer"
            },
            "granularity": {
              "enum": [
                "byte",
                "4k"
              ]
            },
            "default_size": {
              "description": "16 or 32, in any spelling of a number (0x20, \"32\").",
              "anyOf": [
                {
                  "enum": [
                    16,
                    32
                  ]
                },
                {
                  "type": "string",
                  "pattern": "\#(SchemaNumberPattern.oneOf([16, 32]))"
                }
              ]
            },
            "conforming": {
              "$ref": "#/definitions/flag"
            },
            "readable": {
              "$ref": "#/definitions/flag"
            },
            "long": {
              "$ref": "#/definitions/flag"
            },
            "accessed": {
              "$ref": "#/definitions/flag"
            },
            "writable": {
              "$ref": "#/definitions/flag"
            },
            "expand_down": {
              "$ref": "#/definitions/flag"
            },
            "busy": {
              "$ref": "#/definitions/flag"
            },
            "selector": {
              "$ref": "#/definitions/selector"
            },
            "offset": {
              "$ref": "#/definitions/integer"
            },
            "params": {
              "$ref": "#/definitions/params"
            },
            "tss": {
              "$ref": "#/definitions/selector"
            },
\#(tssFieldProperties(indent: 12))
          },
          "required": [
            "type"
          ],
          "allOf": [
            {
              "if": {
                "properties": {
                  "type": {
                    "const": "code"
                  }
                }
              },
              "then": {
                "propertyNames": {
                  "enum": [
                    "name",
                    "type",
                    "dpl",
                    "present",
                    "base",
                    "limit",
                    "granularity",
                    "default_size",
                    "conforming",
                    "readable",
                    "long",
                    "accessed"
                  ]
                }
              }
            },
            {
              "if": {
                "properties": {
                  "type": {
                    "const": "data"
                  }
                }
              },
              "then": {
                "propertyNames": {
                  "enum": [
                    "name",
                    "type",
                    "dpl",
                    "present",
                    "base",
                    "limit",
                    "granularity",
                    "default_size",
                    "writable",
                    "expand_down",
                    "accessed"
                  ]
                }
              }
            },
            {
              "if": {
                "properties": {
                  "type": {
                    "const": "tss32"
                  }
                }
              },
              "then": {
                "propertyNames": {
                  "enum": [
                    "name",
                    "type",
                    "dpl",
                    "present",
                    "busy",
                    "base",
                    "limit",
                    "link",
                    "esp0",
                    "esp1",
                    "esp2",
                    "ss0",
                    "ss1",
                    "ss2",
                    "cr3",
                    "eip",
                    "eflags",
                    "eax",
                    "ecx",
                    "edx",
                    "ebx",
                    "esp",
                    "ebp",
                    "esi",
                    "edi",
                    "es",
                    "cs",
                    "ss",
                    "ds",
                    "fs",
                    "gs",
                    "ldt",
                    "iomap",
                    "trap",
                    "io_ports"
                  ]
                }
              }
            },
            {
              "if": {
                "properties": {
                  "type": {
                    "const": "tss64"
                  }
                }
              },
              "then": {
                "propertyNames": {
                  "enum": [
                    "name",
                    "type",
                    "dpl",
                    "present",
                    "busy",
                    "base",
                    "limit",
                    "rsp0",
                    "rsp1",
                    "rsp2",
                    "ist1",
                    "ist2",
                    "ist3",
                    "ist4",
                    "ist5",
                    "ist6",
                    "ist7",
                    "iomap",
                    "io_ports"
                  ]
                }
              }
            },
            {
              "if": {
                "properties": {
                  "type": {
                    "const": "ldt"
                  }
                }
              },
              "then": {
                "propertyNames": {
                  "enum": [
                    "name",
                    "type",
                    "dpl",
                    "present",
                    "base",
                    "limit"
                  ]
                }
              }
            },
            {
              "if": {
                "properties": {
                  "type": {
                    "const": "call_gate"
                  }
                }
              },
              "then": {
                "propertyNames": {
                  "enum": [
                    "name",
                    "type",
                    "dpl",
                    "present",
                    "selector",
                    "offset",
                    "params"
                  ]
                }
              }
            },
            {
              "if": {
                "properties": {
                  "type": {
                    "const": "task_gate"
                  }
                }
              },
              "then": {
                "propertyNames": {
                  "enum": [
                    "name",
                    "type",
                    "dpl",
                    "present",
                    "tss"
                  ]
                }
              }
            }
          ]
        }
      ]
    },
    "table": {
      "description": "A list (replaces the preset's table; index = position) or a map index -> descriptor (patches it).",
      "anyOf": [
        {
          "type": "array",
          "items": {
            "$ref": "#/definitions/descriptor"
          }
        },
        {
          "type": "object",
          "propertyNames": {
            "pattern": "\#(SchemaNumberPattern.unsigned)"
          },
          "additionalProperties": {
            "$ref": "#/definitions/descriptor"
          }
        }
      ]
    },
    "gate": {
      "description": "An IDT gate; omitted fields keep the preset's gate; `null` makes the vector not present.",
      "anyOf": [
        {
          "type": "null"
        },
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "type": {
              "enum": [
                "interrupt",
                "trap",
                "task"
              ]
            },
            "dpl": {
              "$ref": "#/definitions/privilege"
            },
            "selector": {
              "$ref": "#/definitions/selector"
            },
            "offset": {
              "$ref": "#/definitions/integer"
            },
            "present": {
              "$ref": "#/definitions/flag"
            },
            "ist": {
              "$ref": "#/definitions/ist"
            },
            "tss": {
              "$ref": "#/definitions/selector"
            }
          }
        }
      ]
    },
    "page": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "virt": {
          "$ref": "#/definitions/integer"
        },
        "phys": {
          "$ref": "#/definitions/integer"
        },
        "count": {
          "$ref": "#/definitions/integer"
        },
        "size": {
          "enum": [
            "4k",
            "2m",
            "4m",
            "1g"
          ]
        },
\#(pageFlagProperties(indent: 8)),
        "pml4e": {
          "$ref": "#/definitions/levelFlags"
        },
        "pdpte": {
          "$ref": "#/definitions/levelFlags"
        },
        "pde": {
          "$ref": "#/definitions/levelFlags"
        }
      },
      "required": [
        "virt"
      ],
      "description": "One page or a run of `count` pages. Leaf flags default to present, read-only, supervisor, executable."
    },
    "pages": {
      "type": "array",
      "items": {
        "$ref": "#/definitions/page"
      }
    },
    "machine": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "mode": {
          "enum": [
            "ia32",
            "x86_64"
          ]
        },
        "vendor": {
          "enum": [
            "intel",
            "amd"
          ]
        },
        "preset": {
          "enum": [
            "linux",
            "none"
          ]
        },
        "paging": {
          "description": "`off` (YAML 1.1 reads a bare off as false), 32bit, pae (ia32) or 4level (x86_64). Default: 4level in x86_64; in ia32 pae when cr4.pae is true, else 32bit.",
          "enum": [
            "off",
            false,
            "32bit",
            "pae",
            "4level"
          ]
        },
        "cr0": {
          "$ref": "#/definitions/cr0"
        },
        "cr4": {
          "$ref": "#/definitions/cr4"
        },
        "efer": {
          "$ref": "#/definitions/efer"
        },
        "rflags": {
          "$ref": "#/definitions/rflags"
        },
        "msrs": {
          "$ref": "#/definitions/msrs"
        },
        "pkru": {
          "$ref": "#/definitions/integer"
        },
        "gdt": {
          "$ref": "#/definitions/table"
        },
        "ldt": {
          "$ref": "#/definitions/table"
        },
        "idt": {
          "type": "object",
          "description": "vector (number or exception name) -> gate",
          "additionalProperties": {
            "$ref": "#/definitions/gate"
          }
        },
        "tss": {
          "description": "The loaded TSS: a GDT entry name, or the name plus its contents.",
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "name": {
                  "type": [
                    "string",
                    "number",
                    "boolean"
                  ]
                },
\#(tssFieldProperties(indent: 16))
              }
            }
          ]
        },
        "pages": {
          "$ref": "#/definitions/pages"
        }
      }
    },
    "kernel": {
      "anyOf": [
        {
          "const": "none",
          "description": "A bare CPU: faults are delivered through the IDT and the CPU stops at the handler."
        },
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "scheduler": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "policy": {
                  "enum": [
                    "fifo",
                    "rr",
                    "priority",
                    "cfs"
                  ]
                },
                "timeslice": {
                  "$ref": "#/definitions/integer"
                },
                "preempt": {
                  "$ref": "#/definitions/flag"
                }
              }
            },
            "syscalls": {
              "type": "array",
              "items": {
                "type": [
                  "string",
                  "number",
                  "boolean"
                ]
              }
            },
            "stdin": {
              "type": [
                "string",
                "number",
                "boolean"
              ]
            },
            "files": {
              "type": "object",
              "additionalProperties": {
                "type": [
                  "string",
                  "number",
                  "boolean"
                ]
              }
            },
            "fork": {
              "enum": [
                "copy",
                "cow"
              ],
              "description": "How fork gives the child the parent's private VMA pages: an eager copy (default) or copy-on-write."
            }
          }
        }
      ]
    },
    "vma": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "segment": {
          "enum": [
            "text",
            "data",
            "bss",
            "heap",
            "stack",
            "mmap"
          ]
        },
        "start": {
          "$ref": "#/definitions/integer"
        },
        "pages": {
          "$ref": "#/definitions/integer"
        },
        "size": {
          "$ref": "#/definitions/integer"
        },
        "perm": {
          "type": "string",
          "pattern": "^[r-][w-][x-]$"
        },
        "populate": {
          "$ref": "#/definitions/flag"
        },
        "grows_down": {
          "$ref": "#/definitions/flag"
        }
      },
      "required": [
        "segment"
      ]
    },
    "process": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "name": {
          "type": [
            "string",
            "number",
            "boolean"
          ]
        },
        "pid": {
          "$ref": "#/definitions/integer"
        },
        "parent": {
          "type": [
            "string",
            "number",
            "boolean"
          ]
        },
        "state": {
          "$ref": "#/definitions/state"
        },
        "priority": {
          "$ref": "#/definitions/integer"
        },
        "nice": {
          "$ref": "#/definitions/integer"
        },
        "bits": {
          "description": "32 or 64, in any spelling of a number (0x20, \"32\").",
          "anyOf": [
            {
              "enum": [
                32,
                64
              ]
            },
            {
              "type": "string",
              "pattern": "\#(SchemaNumberPattern.oneOf([32, 64]))"
            }
          ]
        },
        "memory": {
          "type": "array",
          "items": {
            "$ref": "#/definitions/vma"
          }
        },
        "pages": {
          "$ref": "#/definitions/pages"
        },
        "context": {
          "type": "object",
          "description": "Registers at start (any case): segment registers (selectors), rip/eip, rsp/esp, rflags/eflags (a number or a flag map), general registers (numbers).",
          "patternProperties": {
            "^[cCdDeEfFgGsS][sS]$": {
              "$ref": "#/definitions/selector"
            },
            "^[rReE][fF][lL][aA][gG][sS]$": {
              "anyOf": [
                {
                  "$ref": "#/definitions/integer"
                },
                {
                  "$ref": "#/definitions/rflags"
                }
              ]
            }
          },
          "additionalProperties": {
            "$ref": "#/definitions/integer"
          }
        },
        "files": {
          "description": "Open files by descriptor: stdin, stdout, stderr, /dev/null, /dev/tty, /dev/console, a file of kernel.files or an absolute path; in a list, null is a descriptor that is not open.",
          "anyOf": [
            {
              "type": "array",
              "items": {
                "type": [
                  "string",
                  "null"
                ]
              }
            },
            {
              "type": "object",
              "additionalProperties": {
                "type": "string"
              }
            }
          ]
        }
      },
      "required": [
        "name"
      ]
    },
    "state": {
      "enum": [
        "running",
        "ready",
        "sleeping",
        "blocked",
        "zombie"
      ]
    },
    "fault": {
      "description": "An exception name (GP, \"#GP\", PF, ...), a vector number (13), or {vector, error_code, cr2}.",
      "anyOf": [
        {
          "type": "string"
        },
        {
          "type": "integer",
          "minimum": 0,
          "maximum": 31
        },
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "vector": {
              "$ref": "#/definitions/vector"
            },
            "error_code": {
              "anyOf": [
                {
                  "$ref": "#/definitions/integer"
                },
                {
                  "type": "object",
                  "additionalProperties": false,
                  "properties": {
                    "selector": {
                      "$ref": "#/definitions/selector"
                    },
                    "idt": {
                      "$ref": "#/definitions/flag"
                    },
                    "ext": {
                      "$ref": "#/definitions/flag"
                    },
                    "ti": {
                      "description": "The selector's table: gdt or ldt, or a flag (true = LDT); must agree with the selector's bit 2.",
                      "anyOf": [
                        {
                          "enum": [
                            "gdt",
                            "ldt",
                            "GDT",
                            "LDT"
                          ]
                        },
                        {
                          "$ref": "#/definitions/flag"
                        }
                      ]
                    }
                  }
                },
                {
                  "type": "object",
                  "additionalProperties": false,
                  "properties": {
                    "p": {
                      "$ref": "#/definitions/flag"
                    },
                    "w": {
                      "$ref": "#/definitions/flag"
                    },
                    "u": {
                      "$ref": "#/definitions/flag"
                    },
                    "rsvd": {
                      "$ref": "#/definitions/flag"
                    },
                    "i": {
                      "$ref": "#/definitions/flag"
                    },
                    "pk": {
                      "$ref": "#/definitions/flag"
                    }
                  }
                }
              ]
            },
            "cr2": {
              "$ref": "#/definitions/integer"
            }
          },
          "required": [
            "vector"
          ]
        }
      ]
    },
    "stepExpect": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "fault": {
          "description": "`none` or the first exception the step raised.",
          "anyOf": [
            {
              "$ref": "#/definitions/fault"
            }
          ]
        },
        "faults": {
          "anyOf": [
            {
              "const": "none"
            },
            {
              "type": "array",
              "items": {
                "$ref": "#/definitions/fault"
              }
            }
          ]
        },
        "gate": {
          "anyOf": [
            {
              "const": "none"
            },
            {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "vector": {
                  "$ref": "#/definitions/vector"
                },
                "type": {
                  "enum": [
                    "interrupt",
                    "trap",
                    "task",
                    "call",
                    "interrupt_gate",
                    "trap_gate",
                    "task_gate",
                    "call_gate"
                  ]
                },
                "dpl": {
                  "$ref": "#/definitions/privilege"
                },
                "from_cpl": {
                  "$ref": "#/definitions/privilege"
                },
                "to_cpl": {
                  "$ref": "#/definitions/privilege"
                },
                "stack_switch": {
                  "$ref": "#/definitions/flag"
                },
                "if": {
                  "$ref": "#/definitions/flag"
                }
              }
            }
          ]
        },
        "entry": {
          "anyOf": [
            {
              "enum": [
                "int80",
                "sysenter",
                "syscall"
              ]
            },
            {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "via": {
                  "enum": [
                    "int80",
                    "sysenter",
                    "syscall"
                  ]
                },
                "cs": {
                  "$ref": "#/definitions/selector"
                },
                "ss": {
                  "$ref": "#/definitions/selector"
                },
                "rip": {
                  "$ref": "#/definitions/integer"
                },
                "eip": {
                  "$ref": "#/definitions/integer"
                },
                "rsp": {
                  "$ref": "#/definitions/integer"
                },
                "esp": {
                  "$ref": "#/definitions/integer"
                },
                "cpl": {
                  "$ref": "#/definitions/privilege"
                }
              }
            }
          ]
        },
        "cpl": {
          "$ref": "#/definitions/privilege"
        },
        "regs": {
          "type": "object",
          "description": "Registers after the step (any case): segment registers, tr and ldtr (selectors); rip/eip, rsp/esp, rflags, cr0, cr2, cr3, cr4, general registers (numbers).",
          "patternProperties": {
            "^([cCdDeEfFgGsS][sS]|[tT][rR]|[lL][dD][tT][rR])$": {
              "$ref": "#/definitions/selector"
            }
          },
          "additionalProperties": {
            "$ref": "#/definitions/integer"
          }
        },
        "rflags": {
          "description": "A flag map ({if, ac, iopl, ...}: the flags written), or a number: the whole register.",
          "anyOf": [
            {
              "$ref": "#/definitions/rflags"
            },
            {
              "$ref": "#/definitions/integer"
            }
          ]
        },
        "returns": {
          "anyOf": [
            {
              "$ref": "#/definitions/integer"
            },
            {
              "description": "An errno name, negative (-EFAULT) as the call returns it; any case.",
              "type": "string",
              "pattern": "^-?[Ee][A-Za-z0-9]+$"
            }
          ]
        },
        "output": {
          "type": [
            "string",
            "number",
            "boolean"
          ]
        },
        "switch": {
          "anyOf": [
            {
              "const": "none"
            },
            {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "from": {
                  "type": [
                    "string",
                    "number",
                    "boolean"
                  ]
                },
                "to": {
                  "type": [
                    "string",
                    "number",
                    "boolean"
                  ]
                },
                "reason": {
                  "$ref": "#/definitions/reason"
                }
              }
            }
          ]
        },
        "current": {
          "type": [
            "string",
            "number",
            "boolean"
          ]
        },
        "states": {
          "type": "object",
          "additionalProperties": {
            "$ref": "#/definitions/state"
          }
        },
        "signal": {
          "type": [
            "string",
            "integer"
          ],
          "description": "a signal name (SIGSEGV, sigsegv, SEGV) or number, or none"
        },
        "shutdown": {
          "$ref": "#/definitions/flag"
        },
        "trace": {
          "type": "array",
          "items": {
            "type": [
              "string",
              "number",
              "boolean"
            ]
          }
        },
        "physical": {
          "$ref": "#/definitions/integer"
        },
        "accessed": {
          "$ref": "#/definitions/flag"
        },
        "dirty": {
          "$ref": "#/definitions/flag"
        }
      },
      "description": "Checks on one step; only what is written is checked."
    },
    "reason": {
      "enum": [
        "timer",
        "yield",
        "blocking",
        "exit",
        "wakeup",
        "syscall_return",
        "signal"
      ]
    },
    "finalExpect": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "output": {
          "type": [
            "string",
            "number",
            "boolean"
          ]
        },
        "stdout": {
          "type": [
            "string",
            "number",
            "boolean"
          ]
        },
        "schedule": {
          "type": "array",
          "items": {
            "type": [
              "string",
              "number",
              "boolean"
            ]
          }
        },
        "switches": {
          "$ref": "#/definitions/integer"
        },
        "processes": {
          "type": "object",
          "additionalProperties": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "state": {
                "$ref": "#/definitions/state"
              },
              "exit_code": {
                "$ref": "#/definitions/integer"
              },
              "signal": {
                "type": [
                  "string",
                  "integer"
                ],
                "description": "the signal that killed the task, or none"
              },
              "ticks": {
                "$ref": "#/definitions/integer"
              }
            }
          }
        },
        "faults": {
          "$ref": "#/definitions/integer"
        },
        "shutdown": {
          "$ref": "#/definitions/flag"
        }
      },
      "description": "Checks on the whole run, made after the last step."
    },
    "step": {
      "anyOf": [
        {
          "enum": [
            "wait",
            "schedule"
          ]
        },
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "timer": {
              "$ref": "#/definitions/integer"
            },
            "irq": {
              "anyOf": [
                {
                  "$ref": "#/definitions/integer"
                },
                {
                  "type": "object",
                  "additionalProperties": false,
                  "properties": {
                    "vector": {
                      "$ref": "#/definitions/integer"
                    },
                    "wakes": {
                      "type": [
                        "string",
                        "number",
                        "boolean"
                      ]
                    }
                  },
                  "required": [
                    "vector"
                  ]
                }
              ]
            },
            "syscall": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "via": {
                  "description": "The entry: int80, sysenter or syscall. Default: the tasks' own (int80 when every task is 32-bit, syscall when every task is 64-bit); required when they mix.",
                  "enum": [
                    "int80",
                    "sysenter",
                    "syscall"
                  ]
                },
                "nr": {
                  "anyOf": [
                    {
                      "$ref": "#/definitions/integer"
                    },
                    {
                      "type": "string"
                    }
                  ]
                },
                "args": {
                  "type": "array",
                  "maxItems": 6,
                  "items": {
                    "anyOf": [
                      {
                        "$ref": "#/definitions/integer"
                      },
                      {
                        "type": "string"
                      }
                    ]
                  }
                },
                "name": {
                  "type": [
                    "string",
                    "number",
                    "boolean"
                  ]
                }
              },
              "required": [
                "nr"
              ]
            },
            "wait": {
              "anyOf": [
                {
                  "type": "null"
                },
                {
                  "$ref": "#/definitions/integer"
                },
                {
                  "type": "object",
                  "additionalProperties": false,
                  "properties": {
                    "pid": {
                      "$ref": "#/definitions/integer"
                    }
                  }
                }
              ]
            },
            "exit": {
              "anyOf": [
                {
                  "type": "null"
                },
                {
                  "$ref": "#/definitions/integer"
                }
              ]
            },
            "exec": {
              "type": [
                "string",
                "number",
                "boolean"
              ],
              "description": "One instruction, Intel syntax."
            },
            "access": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "op": {
                  "enum": [
                    "read",
                    "write",
                    "fetch"
                  ]
                },
                "addr": {
                  "$ref": "#/definitions/integer"
                },
                "size": {
                  "description": "1, 2, 4 or 8 bytes, in any spelling of a number (0x8, \"4\").",
                  "anyOf": [
                    {
                      "enum": [
                        1,
                        2,
                        4,
                        8
                      ]
                    },
                    {
                      "type": "string",
                      "pattern": "\#(SchemaNumberPattern.oneOf([1, 2, 4, 8]))"
                    }
                  ]
                },
                "cpl": {
                  "$ref": "#/definitions/privilege"
                },
                "implicit": {
                  "$ref": "#/definitions/flag"
                }
              },
              "required": [
                "op",
                "addr"
              ]
            },
            "set": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "regs": {
                  "type": "object",
                  "additionalProperties": {
                    "$ref": "#/definitions/integer"
                  }
                },
                "cr0": {
                  "$ref": "#/definitions/cr0"
                },
                "cr4": {
                  "$ref": "#/definitions/cr4"
                },
                "efer": {
                  "$ref": "#/definitions/efer"
                },
                "rflags": {
                  "$ref": "#/definitions/rflags"
                },
                "msrs": {
                  "$ref": "#/definitions/msrs"
                },
                "pages": {
                  "$ref": "#/definitions/pages"
                }
              },
              "minProperties": 1
            },
            "schedule": {
              "anyOf": [
                {
                  "type": "null"
                },
                {
                  "type": "object",
                  "maxProperties": 0
                }
              ]
            },
            "as": {
              "type": [
                "string",
                "number",
                "boolean"
              ]
            },
            "expect": {
              "anyOf": [
                {
                  "type": "null"
                },
                {
                  "$ref": "#/definitions/stepExpect"
                }
              ]
            }
          },
          "oneOf": [
            {
              "required": [
                "timer"
              ]
            },
            {
              "required": [
                "irq"
              ]
            },
            {
              "required": [
                "syscall"
              ]
            },
            {
              "required": [
                "wait"
              ]
            },
            {
              "required": [
                "exit"
              ]
            },
            {
              "required": [
                "exec"
              ]
            },
            {
              "required": [
                "access"
              ]
            },
            {
              "required": [
                "set"
              ]
            },
            {
              "required": [
                "schedule"
              ]
            }
          ],
          "description": "One event key, optional `as` and `expect`."
        }
      ]
    }
  }
}

"""#

    /// The TSS contents a `tss32`/`tss64` descriptor and `machine.tss` both take (`link` .. `ist7`), as JSON
    /// properties indented by `indent` spaces: written once for the two places.
    static func tssFieldProperties(indent: Int) -> String { indented(tssFieldLines, by: indent) }

    /// The flags of a page mapping's leaf and of each upper-level override (`present` .. `reserved`).
    static func pageFlagProperties(indent: Int) -> String { indented(pageFlagLines, by: indent) }

    private static func indented(_ text: String, by indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }

    private static let pageFlagLines = #"""
"present": {
  "$ref": "#/definitions/flag"
},
"writable": {
  "$ref": "#/definitions/flag"
},
"user": {
  "$ref": "#/definitions/flag"
},
"nx": {
  "$ref": "#/definitions/flag"
},
"global": {
  "$ref": "#/definitions/flag"
},
"accessed": {
  "$ref": "#/definitions/flag"
},
"dirty": {
  "$ref": "#/definitions/flag"
},
"pkey": {
  "$ref": "#/definitions/integer"
},
"reserved": {
  "$ref": "#/definitions/flag"
}
"""#

    private static let tssFieldLines = #"""
"link": {
  "$ref": "#/definitions/selector"
},
"esp0": {
  "$ref": "#/definitions/integer"
},
"esp1": {
  "$ref": "#/definitions/integer"
},
"esp2": {
  "$ref": "#/definitions/integer"
},
"ss0": {
  "$ref": "#/definitions/selector"
},
"ss1": {
  "$ref": "#/definitions/selector"
},
"ss2": {
  "$ref": "#/definitions/selector"
},
"cr3": {
  "$ref": "#/definitions/integer"
},
"eip": {
  "$ref": "#/definitions/integer"
},
"eflags": {
  "$ref": "#/definitions/integer"
},
"eax": {
  "$ref": "#/definitions/integer"
},
"ecx": {
  "$ref": "#/definitions/integer"
},
"edx": {
  "$ref": "#/definitions/integer"
},
"ebx": {
  "$ref": "#/definitions/integer"
},
"esp": {
  "$ref": "#/definitions/integer"
},
"ebp": {
  "$ref": "#/definitions/integer"
},
"esi": {
  "$ref": "#/definitions/integer"
},
"edi": {
  "$ref": "#/definitions/integer"
},
"es": {
  "$ref": "#/definitions/selector"
},
"cs": {
  "$ref": "#/definitions/selector"
},
"ss": {
  "$ref": "#/definitions/selector"
},
"ds": {
  "$ref": "#/definitions/selector"
},
"fs": {
  "$ref": "#/definitions/selector"
},
"gs": {
  "$ref": "#/definitions/selector"
},
"ldt": {
  "$ref": "#/definitions/selector"
},
"iomap": {
  "$ref": "#/definitions/integer"
},
"io_ports": {
  "$ref": "#/definitions/ioPorts"
},
"trap": {
  "$ref": "#/definitions/flag"
},
"rsp0": {
  "$ref": "#/definitions/integer"
},
"rsp1": {
  "$ref": "#/definitions/integer"
},
"rsp2": {
  "$ref": "#/definitions/integer"
},
"ist1": {
  "$ref": "#/definitions/integer"
},
"ist2": {
  "$ref": "#/definitions/integer"
},
"ist3": {
  "$ref": "#/definitions/integer"
},
"ist4": {
  "$ref": "#/definitions/integer"
},
"ist5": {
  "$ref": "#/definitions/integer"
},
"ist6": {
  "$ref": "#/definitions/integer"
},
"ist7": {
  "$ref": "#/definitions/integer"
}
"""#
}
