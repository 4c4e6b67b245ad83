"""The training library: topics, materials with their versions, and officials' completion marks.

A ``training_material`` is what officials see (one title under a topic and a level, aimed at an area
subtree); each upload of its file is a ``training_version`` numbered 1, 2, … Publishing a version
makes it the material's ``current_version`` and supersedes the one before, which stays as history.
A version published with ``retrain`` raises the material's ``completion_from``: completions of
earlier versions stop counting in the coverage report (the content changed in substance).

``training_completion`` holds one mark per (official, version), made on the phone (its id is the
phone's) and never changed or deleted afterwards: once done, done. The file itself lives in the sync
blob store, named by its sha256."""

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TrainingTopic(Table, tablename="training_topic"):
    code = Varchar(length=32, primary_key=True)
    name = Varchar(length=200)
    description = Text(default="")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingMaterial(Table, tablename="training_material"):
    id = UUID(primary_key=True)
    topic = Varchar(length=32, index=True)
    level = Varchar(length=16)
    required = Boolean(default=True)
    area_code = Varchar(length=32)
    area_path = Varchar(length=512, index=True)
    status = Varchar(length=12, default="draft")  # draft | published | withdrawn
    current_version = UUID(null=True, default=None)
    completion_from = Integer(default=1)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TrainingVersion(Table, tablename="training_version"):
    id = UUID(primary_key=True)
    material = ForeignKey(references=TrainingMaterial, index=True)
    number = Integer()
    status = Varchar(length=12, default="draft")  # draft | current | superseded
    title = Varchar(length=200)
    description = Text(default="")
    kind = Varchar(length=12)  # document | slides | audio | video
    sha256 = Varchar(length=64)
    size = BigInt()
    mime = Varchar(length=100)
    retrain = Boolean(default=False)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)


class TrainingCompletion(Table, tablename="training_completion"):
    id = UUID(primary_key=True)
    account = UUID(index=True)
    material = UUID(index=True)
    version = UUID()
    number = Integer()
    area_path = Varchar(length=512)
    completed_at = Timestamptz()
    recorded_at = Timestamptz(default=TimestamptzNow())
    device_id = Varchar(length=64, default="")
