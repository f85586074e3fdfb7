source "file" "out" {
  target  = "out.txt"
  content = <<EOT
yamldecode("a: 1\nb: [x, y]\n") = [${jsonencode(yamldecode("a: 1\nb: [x, y]\n"))}]
yamldecode("yes") = [${jsonencode(yamldecode("yes"))}]
yamldecode("0x10") = [${jsonencode(yamldecode("0x10"))}]
yamldecode("1e3") = [${jsonencode(yamldecode("1e3"))}]
yamldecode("[~, null, Null, NULL, \"~\"]") = [${jsonencode(yamldecode("[~, null, Null, NULL, \"~\"]"))}]
yamldecode("y: n") = [${jsonencode(yamldecode("y: n"))}]
yamldecode("[Y, N, yes, No, off, ON, true, False]") = [${jsonencode(yamldecode("[Y, N, yes, No, off, ON, true, False]"))}]
yamldecode("'quoted'") = [${jsonencode(yamldecode("'quoted'"))}]
yamldecode("- a\n- 2\n- true\n- null\n") = [${jsonencode(yamldecode("- a\n- 2\n- true\n- null\n"))}]
yamldecode("k: |\n  line1\n  line2\n") = [${jsonencode(yamldecode("k: |\n  line1\n  line2\n"))}]
yamldecode("n: 010") = [${jsonencode(yamldecode("n: 010"))}]
yamldecode("on") = [${jsonencode(yamldecode("on"))}]
yamldecode("a: &x 1\nb: *x\n") = [${jsonencode(yamldecode("a: &x 1\nb: *x\n"))}]
yamldecode(".inf") = [${yamldecode(".inf")}]
yamldecode("-.Inf") = [${yamldecode("-.Inf")}]
yamldecode("1.0") = [${jsonencode(yamldecode("1.0"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
