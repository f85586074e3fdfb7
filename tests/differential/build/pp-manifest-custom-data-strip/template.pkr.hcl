source "file" "a" {
  content = "a\n"
  target  = "dir/nested/a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      zeta  = "z"
      alpha = "a"
      name  = "${source.name}"
    }
  }
}
