source "file" "out" {
  target  = "out.txt"
  content = <<EOT
$${not_interp} %%{not_directive} $$ %% $x %x
${"inner ${"nested"} ${1 + 1}"}
${"literal $${x} and %%{y}"}
${join("", [for s in ["a", "b"] : upper(s)])}
${jsonencode({ for k, v in { a = 1, b = 2 } : upper(k) => v * 10 })}
${jsonencode([for i, v in ["x", "y"] : "${i}${v}" if v != "x"])}
EOT
}

build {
  sources = ["source.file.out"]
}
