"""Metadata definitions (/v2/metadefs) over plain HTTP and with the real
`openstack image metadef ...` CLI: the seeded catalog, namespaces with
their objects, properties, tags and resource type associations, the
schemas, visibility and admin-only changes, and the 4xx answers."""

import pytest

from imghelp import Images, assert_glance_error, project_users
from kshelp import uniq
from test_identity_cli import Cli

NS = "/v2/metadefs/namespaces"


@pytest.fixture
def img(server):
    return Images(server, server.admin_token())


def test_seeded_catalog_and_schemas(img):
    types = [t["name"] for t in img.get("/v2/metadefs/resource_types", expect=200).json()["resource_types"]]
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Cinder::Volume"} <= set(types)
    listed = img.get(NS, params={"limit": 100}, expect=200).json()
    names = {n["namespace"] for n in listed["namespaces"]}
    assert {"OS::Compute::Hypervisor", "OS::Compute::Libvirt", "OS::Compute::Watchdog",
            "OS::Glance::CommonImageProperties"} <= names
    assert listed["schema"] == "/v2/schemas/metadefs/namespaces"
    hv = img.get(f"{NS}/OS::Compute::Hypervisor", expect=200).json()
    assert hv["protected"] is True and hv["visibility"] == "public"
    assert "hypervisor_type" in hv["properties"]
    assert hv["properties"]["hypervisor_type"]["type"] == "string"
    assert [a["name"] for a in hv["resource_type_associations"]] == ["OS::Glance::Image"]
    # filter by resource type
    flavor = img.get(NS, params={"resource_types": "OS::Nova::Flavor", "limit": 100},
                     expect=200).json()["namespaces"]
    assert "OS::Compute::Watchdog" in {n["namespace"] for n in flavor}
    assert "OS::Compute::Hypervisor" not in {n["namespace"] for n in flavor}
    # protected: no delete
    assert_glance_error(img.delete(f"{NS}/OS::Compute::Hypervisor"), 403)
    want = {"namespace": "namespace", "namespaces": "namespaces",
            "resource_type": "resource_type_association",
            "resource_types": "resource_type_associations", "object": "object",
            "objects": "objects", "property": "property", "properties": "properties",
            "tag": "tag", "tags": "tags"}
    for path, name in want.items():
        assert img.get(f"/v2/schemas/metadefs/{path}", expect=200).json()["name"] == name
    assert_glance_error(img.get("/v2/schemas/metadefs/nothing"), 404)


def test_namespace_lifecycle(img):
    name = uniq("ns")
    body = img.post(NS, json={
        "namespace": name, "display_name": "Mine", "description": "test", "visibility": "public",
        "protected": True, "resource_type_associations": [{"name": "OS::Glance::Image",
                                                           "prefix": "my_"}],
        "properties": {"speed": {"title": "Speed", "type": "integer", "minimum": 1}},
        "objects": [{"name": "obj1", "properties": {"a": {"title": "A", "type": "string"}}}],
        "tags": [{"name": "t1"}]}, expect=201).json()
    assert body["namespace"] == name and body["protected"] is True
    assert body["properties"]["speed"]["minimum"] == 1
    assert body["self"] == f"{NS}/{name}"
    assert_glance_error(img.post(NS, json={"namespace": name}), 409)
    shown = img.get(f"{NS}/{name}", expect=200).json()
    assert [o["name"] for o in shown["objects"]] == ["obj1"]
    assert [t["name"] for t in shown["tags"]] == ["t1"]
    assert shown["resource_type_associations"][0]["prefix"] == "my_"
    assert_glance_error(img.delete(f"{NS}/{name}"), 403)
    # objects
    o = f"{NS}/{name}/objects"
    img.post(o, json={"name": "obj2", "description": "second", "required": ["x"]}, expect=201)
    assert_glance_error(img.post(o, json={"name": "obj2"}), 409)
    up = img.put(f"{o}/obj2", json={"name": "obj3", "description": "renamed"}, expect=200).json()
    assert up["name"] == "obj3" and up["self"].endswith("/objects/obj3")
    assert_glance_error(img.get(f"{o}/obj2"), 404)
    assert {x["name"] for x in img.get(o, expect=200).json()["objects"]} == {"obj1", "obj3"}
    img.delete(f"{o}/obj3", expect=204)
    assert_glance_error(img.delete(f"{o}/obj3"), 404)
    # properties
    p = f"{NS}/{name}/properties"
    made = img.post(p, json={"name": "color", "title": "Color", "type": "string",
                             "enum": ["red", "blue"]}, expect=201).json()
    assert made == {"name": "color", "title": "Color", "type": "string", "enum": ["red", "blue"]}
    up = img.put(f"{p}/color", json={"name": "color", "title": "Colour", "type": "string"},
                 expect=200).json()
    assert up["title"] == "Colour"
    assert set(img.get(p, expect=200).json()["properties"]) == {"speed", "color"}
    img.delete(f"{p}/color", expect=204)
    assert_glance_error(img.get(f"{p}/color"), 404)
    # tags
    t = f"{NS}/{name}/tags"
    img.post(t, json={"tags": [{"name": "a"}, {"name": "b"}]}, expect=201)
    assert {x["name"] for x in img.get(t, expect=200).json()["tags"]} == {"a", "b"}
    img.post(t, json={"tags": [{"name": "c"}]}, headers={"X-Openstack-Append": "True"},
             expect=201)
    assert {x["name"] for x in img.get(t, expect=200).json()["tags"]} == {"a", "b", "c"}
    assert_glance_error(img.post(t, json={"tags": [{"name": "x"}, {"name": "x"}]}), 409)
    img.post(f"{t}/d", expect=201)
    assert_glance_error(img.post(f"{t}/d"), 409)
    assert img.put(f"{t}/d", json={"name": "e"}, expect=200).json()["name"] == "e"
    assert img.get(f"{t}/e", expect=200).json()["name"] == "e"
    img.delete(f"{t}/e", expect=204)
    # resource type associations
    r = f"{NS}/{name}/resource_types"
    img.post(r, json={"name": "OS::Nova::Flavor"}, expect=201)
    assert_glance_error(img.post(r, json={"name": "OS::Nova::Flavor"}), 409)
    names = {a["name"] for a in img.get(r, expect=200).json()["resource_type_associations"]}
    assert names == {"OS::Glance::Image", "OS::Nova::Flavor"}
    img.delete(f"{r}/OS::Nova::Flavor", expect=204)
    assert_glance_error(img.delete(f"{r}/OS::Nova::Flavor"), 404)
    # update: unprotect, rename, then delete (children follow the rename)
    renamed = name + "-2"
    up = img.put(f"{NS}/{name}", json={"namespace": renamed, "visibility": "private",
                                       "protected": False}, expect=200).json()
    assert up["namespace"] == renamed and up["protected"] is False
    assert_glance_error(img.get(f"{NS}/{name}"), 404)
    assert "speed" in img.get(f"{NS}/{renamed}", expect=200).json()["properties"]
    img.delete(f"{NS}/{renamed}/tags", expect=204)
    assert img.get(f"{NS}/{renamed}/tags", expect=200).json()["tags"] == []
    img.delete(f"{NS}/{renamed}", expect=204)
    assert_glance_error(img.get(f"{NS}/{renamed}"), 404)
    assert_glance_error(img.get(f"{NS}/{renamed}/objects"), 404)


def test_bad_input_and_policy(server, img):
    for body in ({}, {"namespace": ""}, {"namespace": 5}, {"namespace": "x" * 81},
                 {"namespace": uniq("n"), "visibility": "shared"},
                 {"namespace": uniq("n"), "protected": "yes"},
                 {"namespace": uniq("n"), "bogus": 1},
                 {"namespace": uniq("n"), "properties": {"p": {"type": "string"}}},
                 {"namespace": uniq("n"), "properties": {"p": {"title": "P", "type": "blob"}}},
                 {"namespace": uniq("n"), "resource_type_associations": "OS::Glance::Image"},
                 {"namespace": uniq("n"), "objects": [{"description": "no name"}]}):
        assert_glance_error(img.post(NS, json=body), 400)
    assert_glance_error(img.post(NS, json={"namespace": uniq("n"), "self": "/x"}), 403)
    for params in ({"limit": "x"}, {"sort_dir": "up"}, {"marker": "nope"},
                   {"visibility": "shared"}):
        assert_glance_error(img.get(NS, params=params), 400)
    name = uniq("ns")
    img.post(NS, json={"namespace": name}, expect=201)
    assert_glance_error(img.post(f"{NS}/{name}/properties", json={"name": "p", "type": "string"}), 400)
    assert_glance_error(img.post(f"{NS}/{name}/objects", json={"name": "o", "required": "x"}), 400)
    assert_glance_error(img.post(f"{NS}/{name}/tags", json={"tags": "a"}), 400)
    assert_glance_error(img.post(f"{NS}/{name}/resource_types", json={"prefix": "x"}), 400)
    assert_glance_error(img.get(f"{NS}/{name}/objects/none"), 404)
    assert_glance_error(img.get(f"{NS}/none-such/properties"), 404)
    # a member reads public namespaces only and changes nothing
    ks = project_users(server)
    _u, _p, tok = ks.user_with_role("member")
    member = Images(server, tok)
    assert_glance_error(member.get(f"{NS}/{name}"), 404)  # private to admin's project
    assert name not in {n["namespace"] for n in member.get(NS, params={"limit": 1000}, expect=200).json()["namespaces"]}
    member.get(f"{NS}/OS::Compute::Libvirt", expect=200)
    assert_glance_error(member.post(NS, json={"namespace": uniq("m")}), 403)
    assert_glance_error(member.post(f"{NS}/OS::Compute::Libvirt/tags/x"), 403)
    assert_glance_error(member.delete(f"{NS}/OS::Compute::Libvirt/properties/hw_disk_bus"), 403)
    member.get("/v2/schemas/metadefs/namespace", expect=200)


def test_metadef_cli(server):
    cli = Cli(server)
    rows = cli.json("image", "metadef", "resource", "type", "list")
    assert "OS::Glance::Image" in {r["Name"] for r in rows}
    name = uniq("cli-ns")
    cli.json("image", "metadef", "namespace", "create", "--public", "--description", "from the CLI",
             name)
    shown = cli.json("image", "metadef", "namespace", "show", name)
    assert shown["namespace"] == name and shown["description"] == "from the CLI"
    assert name in {r["namespace"] for r in cli.json("image", "metadef", "namespace", "list")}
    cli.run("image", "metadef", "property", "create", "--name", "speed", "--title", "Speed",
            "--type", "integer", "--schema", '{"minimum": 1}', name)
    props = cli.json("image", "metadef", "property", "list", name)
    assert [(p["name"], p["type"]) for p in props] == [("speed", "integer")]
    cli.run("image", "metadef", "object", "create", "--namespace", name, "thing")
    assert [o["name"] for o in cli.json("image", "metadef", "object", "list", name)] == ["thing"]
    cli.run("image", "metadef", "resource", "type", "association", "create", name,
            "OS::Glance::Image")
    assocs = cli.json("image", "metadef", "resource", "type", "association", "list", name)
    assert [a["Name"] for a in assocs] == ["OS::Glance::Image"]
    cli.run("image", "metadef", "namespace", "delete", name)
    assert name not in {r["namespace"] for r in cli.json("image", "metadef", "namespace", "list")}
