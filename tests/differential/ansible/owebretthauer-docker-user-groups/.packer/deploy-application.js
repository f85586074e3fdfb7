{
  "variables": {
    "ansible_host": "default",
    "ansible_connection": "docker"
  },
  "builders": [
    {
      "type": "null",
      "communicator": "none"
    }
  ],
  "provisioners": [
    {
      "type": "ansible",
      "user": "root",
      "playbook_file": "../provisioning/deploy-application.yml",
      "groups": [ "servers" ],
      "extra_arguments": [
          "--extra-vars",
          "ansible_host={{user `ansible_host`}} ansible_connection={{user `ansible_connection`}}"
      ]
    }
  ]
}
