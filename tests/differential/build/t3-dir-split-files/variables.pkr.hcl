variable "name" {
  type    = string
  default = "split"
}
