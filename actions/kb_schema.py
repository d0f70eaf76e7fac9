"""Tables of the knowledge base: rebuildable content, kept apart from any learner data."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base

KnowledgeBaseModel = declarative_base()


class Source(KnowledgeBaseModel):
    __tablename__ = "kb_sources"
    key = Column(String(40), primary_key=True)
    file = Column(String(200), nullable=False)
    title = Column(String(200), nullable=False)


class Topic(KnowledgeBaseModel):
    __tablename__ = "kb_topics"
    key = Column(String(40), primary_key=True)
    title = Column(String(200), nullable=False)
    summary = Column(Text, nullable=False)
    position = Column(Integer, nullable=False)


class Fact(KnowledgeBaseModel):
    __tablename__ = "kb_facts"
    id = Column(Integer, primary_key=True)
    key = Column(String(100), nullable=False, unique=True)  # "<topic>.<name>", as in topics.yml
    topic_key = Column(ForeignKey("kb_topics.key"), nullable=False, index=True)
    text = Column(Text, nullable=False)
    source_key = Column(ForeignKey("kb_sources.key"), nullable=False)
    is_more = Column(Boolean, nullable=False)  # shown only when the learner asks for more
    position = Column(Integer, nullable=False)


class Item(KnowledgeBaseModel):
    __tablename__ = "kb_items"
    name = Column(String(100), primary_key=True)
    full_name = Column(String(200), nullable=False)
    kind = Column(String(40), nullable=False, index=True)
    topic_key = Column(ForeignKey("kb_topics.key"), nullable=False)
    description = Column(Text, nullable=False)
    tags = Column(Text, nullable=False)  # "|"-separated, lower case
    milestone = Column(String(40))  # the path step (milestone) having this item completes
    source_key = Column(ForeignKey("kb_sources.key"), nullable=False)


class ItemAlias(KnowledgeBaseModel):
    __tablename__ = "kb_item_aliases"
    alias = Column(String(200), primary_key=True)  # lower case; includes the name itself
    item_name = Column(ForeignKey("kb_items.name"), nullable=False)


class TopicItem(KnowledgeBaseModel):
    """The items a topic's answer lists, in order (so "the first one" can refer back)."""

    __tablename__ = "kb_topic_items"
    topic_key = Column(ForeignKey("kb_topics.key"), primary_key=True)
    item_name = Column(ForeignKey("kb_items.name"), primary_key=True)
    position = Column(Integer, nullable=False)


class RelatedTopic(KnowledgeBaseModel):
    __tablename__ = "kb_related_topics"
    topic_key = Column(ForeignKey("kb_topics.key"), primary_key=True)
    related_key = Column(ForeignKey("kb_topics.key"), primary_key=True)
    position = Column(Integer, nullable=False)


class PathStep(KnowledgeBaseModel):
    """A step of the career path, which is also a milestone on each learner's checklist."""

    __tablename__ = "kb_path_steps"
    position = Column(Integer, primary_key=True)
    key = Column(String(40), nullable=False, unique=True)  # what learner progress records
    title = Column(String(200), nullable=False)
    text = Column(Text, nullable=False)
    topic_key = Column(ForeignKey("kb_topics.key"), nullable=False)
    source_key = Column(ForeignKey("kb_sources.key"), nullable=False)
    roles = Column(Text, nullable=False, default="")  # "|"-separated current jobs that have it


class ExampleQuestion(KnowledgeBaseModel):
    """A question learners ask that an entry answers (knowledge/questions.yml): the answer
    ranking compares a learner's question with these as well as with the entry's own text."""

    __tablename__ = "kb_example_questions"
    entry_key = Column(String(200), primary_key=True)  # a fact id, summary:, item: or step: key
    position = Column(Integer, primary_key=True)
    question = Column(Text, nullable=False)


class BuildInfo(KnowledgeBaseModel):
    """One row: the hash of the knowledge files the tables were built from."""

    __tablename__ = "kb_build_info"
    id = Column(Integer, primary_key=True)
    content_hash = Column(String(64), nullable=False)
