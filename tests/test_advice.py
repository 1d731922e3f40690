"""Every piece of advice the package gives a user, followed as written.

A message that tells the user what to do makes a promise: do this, and you
get past me. `ADVICE` below lists each such message (by its module and a
fragment of its text) with the tests that do exactly what it says, with the
paths and commands it printed, and check the promise. The listing tests
read the package's source and fail when a message that gives advice has no
entry, or when an entry names a message or a test that is gone.

Which strings give advice is decided by `_GIVES_ADVICE`: a clause that
starts with an imperative (give, run, put, delete, ...), "did you mean", or
a `--help` to run. Docstrings and help texts (arguments of `add_argument`
and `add_bool`, or a variable a function passes there) are documentation,
not messages, and are not read.
"""

import ast
import contextlib
import csv
import functools
import glob
import hashlib
import http.server
import io
import json
import os
import pickle
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from cifar10 import cifar10 as cifar10_model
from cifar10 import cifar10_input
from cifar10 import convert_images
from cifar10 import dist_train
from cifar10 import eval as cifar10_eval
from cifar10 import export
from cifar10 import predict
from cifar10 import synthetic
import cifar10.train as train
from cifar10.support import batch_files
from cifar10.support import classes
from cifar10.support import data_sets
from cifar10.support import download
from cifar10.support import errors
from cifar10.support import eval_report
from cifar10.support import flags
from cifar10.support import paths
from cifar10.support import pickled_batches
from cifar10.support import script
from cifar10.support import session_options
from cifar10.support import storage
from cifar10.support import tower_devices
import cifar_formats
from conftest import DEADLINE_SECS, crafted_record, latest_step, serve_exported
from conftest import write_image_folder
import documents
import script_modules
from test_convert_images import _class_folder
from test_dist_train import Cluster, wait_for_checkpoint, wait_until_connected
from test_download import _serving, _tarball, _unused_url
import test_faults

ports = script_modules.load('ports')

# A 24 MB file system to fill (a fixture of test_faults.py's, shared).
small_filesystem = test_faults.small_filesystem
tmpfs = test_faults.tmpfs
_fill = test_faults._fill

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(REPO, 'tests')
BIN = download.EXTRACTED_DIR

# ---------------------------------------------------------------------------
# The list of advice, and the tests that follow it
# ---------------------------------------------------------------------------

# A clause that tells the user to do something.
_IMPERATIVES = (
    'add', 'build', 'call', 'change', 'check', 'choose', 'clear', 'convert',
    'copy', 'create', 'delete', 'download', 'drop', 'evaluate', 'export',
    'extract', 'fix', 'free', 'give', 'install', 'keep', 'leave', 'let',
    'lower', 'make', 'merge', 'move', 'name', 'open', 'pass', 'pick', 'point',
    'provide', 'put', 'raise', 'reinstall', 'remove', 'rename', 'replace',
    'restart', 'run', 'see', 'set', 'specify', 'split', 'start', 'train',
    'try', 'type', 'unset', 'upgrade', 'use', 'wait', 'write')
_GIVES_ADVICE = re.compile(
    r'(?:^|[.:;!?]\s+|\(|\b(?:or|and|then)\s+)(?:%s)\b|did you mean|--help'
    % '|'.join(_IMPERATIVES), re.IGNORECASE)

# Calls whose string arguments are documentation (help texts), not messages.
_DOCUMENTING_CALLS = ('add_argument', 'add_bool', 'ArgumentParser',
                      'add_argument_group')

# (module, a fragment of the message) -> the tests ('file.py::name') that do
# what it says and check that it leads where it promises.
ADVICE = {
    # cifar10/support/learning_schedule.py
    ('cifar10/support/learning_schedule.py', 'Give at least %g'):
        ['test_schedule.py::test_a_decay_period_under_one_step_names_the_flag'],
    # cifar10/convert_images.py
    ('cifar10/convert_images.py', 'move them into a folder of their class'):
        ['test_advice.py::test_convert_loose_pictures_then_into_a_class_'
         'folder_beside_another'],
    ('cifar10/convert_images.py', 'Convert into a local folder, then copy'):
        ['test_advice.py::test_convert_into_a_url_then_locally_and_copied_'
         'there'],
    ('cifar10/convert_images.py', 'Delete or move the copies on one side'):
        ['test_advice.py::test_convert_copies_across_the_split_then_one_side_'
         'cleared'],
    ('cifar10/convert_images.py', 'add a folder of images for each %sclass'):
        ['test_advice.py::test_convert_one_class_then_add_another',
         'test_advice.py::test_convert_an_empty_folder_then_two_classes'],
    ('cifar10/convert_images.py', 'Merge classes, or convert a part'):
        ['test_advice.py::test_convert_257_classes_then_merge_or_leave_one'],
    ('cifar10/convert_images.py', 'Give the folder holding one subfolder'):
        ['test_advice.py::test_convert_src_a_file_then_give_the_folder'],
    ('cifar10/convert_images.py', 'each needing one image at least. Add '
                                  'images'):
        ['test_advice.py::test_convert_too_few_then_add_images_or_lower'],
    ('cifar10/convert_images.py', ', or lower --test_fraction'):
        ['test_advice.py::test_convert_too_few_then_add_images_or_lower'],
    ('cifar10/convert_images.py', 'Give an OUT folder outside SRC'):
        ['test_advice.py::test_convert_out_refused_then_give_another_out'],
    ('cifar10/convert_images.py', 'Give a folder to write'):
        ['test_advice.py::test_convert_out_refused_then_give_another_out'],
    ('cifar10/convert_images.py', 'Give another OUT folder (a new one), or '
                                  'move that data away'):
        ['test_advice.py::test_convert_out_refused_then_give_another_out'],
    ('cifar10/convert_images.py', 'exists and is a file. Give another OUT'):
        ['test_advice.py::test_convert_out_refused_then_give_another_out'],
    ('cifar10/convert_images.py', 'Only %d training images'):
        ['test_advice.py::test_convert_unusable_images_then_replace_them'],
    ('cifar10/convert_images.py', 'No test image of'):
        ['test_advice.py::test_convert_unusable_images_then_replace_them'],
    ('cifar10/convert_images.py', 'Fix or replace its files'):
        ['test_advice.py::test_convert_unusable_images_then_replace_them'],
    ('cifar10/convert_images.py', 'its name %s. Rename the folder'):
        ['test_advice.py::test_convert_bad_class_folder_names_then_rename'],
    ('cifar10/convert_images.py', 'not valid UTF-8'):
        ['test_advice.py::test_convert_bad_class_folder_names_then_rename'],
    ('cifar10/convert_images.py', 'put its images there, or remove the'):
        ['test_advice.py::test_convert_empty_class_then_fill_or_remove_it'],
    ('cifar10/convert_images.py', 'or put the class folders directly in SRC'):
        ['test_advice.py::test_convert_train_without_test_then_either_way'],
    ('cifar10/convert_images.py', 'leave --test_fraction out'):
        ['test_advice.py::test_convert_fraction_of_split_layout_then_leave_it'],
    ('cifar10/convert_images.py', 'Add the missing folder, or remove the'):
        ['test_advice.py::test_convert_splits_differ_then_add_or_remove'],
    ('cifar10/convert_images.py', 'leaves the test split empty'):
        ['test_advice.py::test_convert_empty_test_split_then_raise_or_add'],
    ('cifar10/convert_images.py', ', or raise --test_fraction to'):
        ['test_advice.py::test_convert_empty_test_split_then_raise_or_add'],
    ('cifar10/convert_images.py', 'is a converted data set already'):
        ['test_advice.py::test_convert_a_converted_data_set_then_as_told'],
    ('cifar10/convert_images.py', 'give its parent to the trainer'):
        ['test_advice.py::test_convert_a_converted_data_set_then_as_told'],
    ('cifar10/convert_images.py', 'it is no class of images. Move it out'):
        ['test_advice.py::test_convert_a_converted_data_set_then_as_told'],
    ('cifar10/convert_images.py', 'change its permissions, or remove the '
                                  'folder'):
        ['test_convert_images.py::test_folders_that_cannot_be_read_are_said_'
         'so'],
    ('cifar10/convert_images.py', 'use a larger picture'):
        ['test_advice.py::test_convert_small_picture_then_a_larger_one_or_'
         'enlarged'],
    ('cifar10/convert_images.py', 'leaving none to train on; nothing was '
                                  'written. Add images to'):
        ['test_advice.py::test_convert_class_drawn_whole_into_test_then_add_'
         'or_lower'],
    ('cifar10/convert_images.py', 'Replace or fix the files in'):
        ['test_advice.py::test_convert_class_without_test_images_then_as_'
         'its_notice_says'],
    ('cifar10/convert_images.py', 'to draw one into the test split'):
        ['test_advice.py::test_convert_class_without_test_images_then_as_'
         'its_notice_says'],
    ('cifar10/convert_images.py', ', or convert again with --test_fraction'):
        ['test_advice.py::test_convert_class_without_test_images_then_as_'
         'its_notice_says'],
    ('cifar10/convert_images.py', 'Add other pictures to %s'):
        ['test_advice.py::test_convert_class_without_test_images_then_as_'
         'its_notice_says'],
    ('cifar10/convert_images.py', 'Add other pictures to the class'):
        ['test_advice.py::test_convert_classes_all_copies_then_other_'
         'pictures_added'],
    ('cifar10/convert_images.py', 'Rename %s, the two splits'):
        ['test_advice.py::test_convert_folders_named_like_splits_then_'
         'renamed'],
    # cifar10/dist_train.py
    ('cifar10/dist_train.py', 'Give --task_index'):
        ['test_advice.py::test_cluster_flags_refused_then_given'],
    ('cifar10/dist_train.py', 'give host:port of at least one task'):
        ['test_advice.py::test_cluster_flags_refused_then_given'],
    ('cifar10/dist_train.py', 'use ps or worker'):
        ['test_advice.py::test_cluster_flags_refused_then_given'],
    ('cifar10/dist_train.py', 'a chief and a master'):
        ['test_advice.py::test_cluster_flags_refused_then_given'],
    ('cifar10/dist_train.py', 'An evaluator is not a task'):
        ['test_advice.py::test_cluster_started_task_by_task_as_advised'],
    ('cifar10/dist_train.py', 'leave it off for cifar10.dist_train'):
        ['test_advice.py::test_cluster_started_task_by_task_as_advised'],
    ('cifar10/dist_train.py', 'Start that task, or correct its address'):
        ['test_advice.py::test_cluster_started_task_by_task_as_advised'],
    ('cifar10/dist_train.py', 'Start it, or raise --startup_timeout'):
        ['test_advice.py::test_cluster_started_task_by_task_as_advised'],
    ('cifar10/dist_train.py', 'Start it again with its same command, then '
                              'this worker'):
        ['test_advice.py::test_a_ps_task_lost_while_a_worker_waited_for_its_'
         'chief_then_started_again'],
    ('cifar10/dist_train.py', 'Give both flags, or neither'):
        ['test_advice.py::test_cluster_flags_refused_then_given'],
    ('cifar10/dist_train.py', 'Give each task an address of its own'):
        ['test_advice.py::test_cluster_flags_refused_then_given'],
    ('cifar10/dist_train.py', 'Stop that process, or give this task a free '
                              'port'):
        ['test_advice.py::test_a_task_whose_port_is_taken_then_freed_or_'
         'moved'],
    # cifar10/support/cluster_watch.py
    ('cifar10/support/cluster_watch.py', 'Start it again with its same '
                                         'command: the chief'):
        ['test_dist_train.py::test_a_killed_ps_task_is_named_and_its_restart_'
         'resumes_training'],
    ('cifar10/support/cluster_watch.py', 'Start it again with its same '
                                         'command: it rejoins the cluster'):
        ['test_dist_train.py::test_a_ps_task_names_a_worker_that_died_and_its_'
         'restart_ends_the_run'],
    ('cifar10/support/cluster_watch.py', 'Start it again with its same '
                                         'command: it rejoins, and'):
        ['test_dist_train.py::test_a_synchronous_worker_names_the_worker_its_'
         'steps_wait_for',
         'test_dist_train.py::test_synchronous_workers_killed_or_stopped_'
         'rejoin_and_the_run_goes_on'],
    ('cifar10/support/cluster_watch.py', 'Start it again with its same '
                                         'command: it resumes'):
        ['test_dist_train.py::test_synchronous_workers_killed_or_stopped_'
         'rejoin_and_the_run_goes_on'],
    # cifar10/support/eval_report.py
    ('cifar10/support/eval_report.py', 'which lists them all'):
        ['test_use_model.py::test_predict_refuses_more_classes_than_the_'
         'model_has_then_all'],
    ('cifar10/support/eval_report.py', 'every image has its true class among'):
        ['test_train_eval.py::test_eval_refuses_a_top_k_above_the_number_of_'
         'classes'],
    # cifar10/eval.py
    ('cifar10/support/checkpoints.py', 'Give the --data_dir it was trained '
                                       'on%s, or the --checkpoint_dir'):
        ['test_advice.py::test_other_classes_then_the_data_or_run_that_fits',
         'test_advice.py::test_other_names_of_the_same_count_then_the_data_or_'
         'run_that_fits'],
    ('cifar10/eval.py', 'Or let that run save a new checkpoint'):
        ['test_checkpoint_fit.py::test_eval_loop_skips_a_checkpoint_that_does_'
         'not_fit_and_keeps_waiting'],
    ('cifar10/support/checkpoint_choice.py', 'give --eval_dir a new folder, '
                                             'such as %s, to evaluate again'):
        ['test_eval_all_checkpoints.py::test_each_checkpoint_without_a_result_'
         'is_evaluated_oldest_first'],
    ('cifar10/support/checkpoint_choice.py', 'Give its folder, %s, to '
                                             'evaluate each new one'):
        ['test_advice.py::test_eval_of_a_checkpoint_then_its_folder_watches'],
    # cifar10/export.py
    ('cifar10/export.py', 'Give a new folder, such as %s (%s)'):
        ['test_advice.py::test_export_refused_then_the_folder_it_names',
         'test_advice.py::test_advice_on_paths_with_a_space_and_an_umlaut_'
         'pasted_into_a_shell'],
    ('cifar10/export.py', 'Give a new folder for the SavedModel'):
        ['test_advice.py::test_export_refused_then_the_folder_it_names'],
    # cifar10/support/tower_devices.py
    ('cifar10/support/tower_devices.py', 'Lower --num_gpus to %d, or add'):
        ['test_advice.py::test_more_gpus_than_found_then_as_advised'],
    ('cifar10/support/tower_devices.py', 'Add --virtual_devices to split '
                                         'the CPU'):
        ['test_advice.py::test_more_gpus_than_found_then_as_advised'],
    # cifar10/synthetic.py
    ('cifar10/synthetic.py', 'give a --data_dir that holds no batch files'):
        ['test_download.py::test_synthetic_refuses_to_write_over_batch_files'],
    # cifar10/support/batch_files.py
    ('cifar10/support/batch_files.py', 'Put it back, or point --data_dir'):
        ['test_advice.py::test_missing_batch_file_then_put_back_or_point'],
    ('cifar10/support/batch_files.py', 'Point --data_dir, or the data_dir of'):
        ['test_advice.py::test_input_call_on_a_folder_without_data_then_'
         'pointed_as_told'],
    ('cifar10/support/batch_files.py', 'Replace it with a whole copy'):
        ['test_faults.py::'
         'test_data_file_truncated_mid_run_is_named_and_the_run_resumes'],
    ('cifar10/support/batch_files.py', 'belongs to other data: replace it'):
        ['test_advice.py::test_labels_beyond_the_classes_then_replace_file'],
    # cifar10/support/checkpoints.py
    ('cifar10/support/checkpoints.py', 'Point %s at the --train_dir of a '
                                       'training run'):
        ['test_advice.py::test_checkpoint_dir_a_file_then_point_at_a_run',
         'test_advice.py::test_checkpoint_dir_an_eval_dir_or_pictures_then_'
         'point_at_a_run',
         'test_warm_start.py::test_the_advice_of_each_refused_source_followed_'
         'leads_to_a_run'],
    ('cifar10/support/checkpoints.py', 'copy it again from where it was '
                                       'made'):
        ['test_advice.py::test_every_checkpoint_damaged_then_copied_again_or_'
         'another_run'],
    ('cifar10/support/checkpoints.py', 'to use it instead'):
        ['test_advice.py::test_damaged_newest_then_readers_use_the_older_one_'
         'as_advised',
         'test_advice.py::test_damaged_past_its_step_then_predict_uses_the_'
         'older_one'],
    ('cifar10/support/checkpoints.py', 'change its permissions to let you '
                                       'read it'):
        ['test_output.py::test_checkpoint_files_that_cannot_be_read_are_named_'
         'not_called_damaged'],
    ('cifar10/support/checkpoints.py', 'Add --raw_weights to use'):
        ['test_raw_weights.py::'
         'test_eval_without_averages_names_raw_weights_and_following_it_works'],
    ('cifar10/support/checkpoints.py', 'leave --use_fp16 out to use it'):
        ['test_advice.py::test_resume_in_the_other_dtype_then_as_advised'],
    ('cifar10/support/checkpoints.py', 'add --use_fp16 to use it'):
        ['test_advice.py::test_resume_in_the_other_dtype_then_as_advised'],
    ('cifar10/support/checkpoints.py', 'give one of them, such as'):
        ['test_raw_weights.py::'
         'test_a_checkpoint_that_is_not_there_lists_those_that_are'],
    ('cifar10/support/checkpoints.py', 'Give the --train_dir that '
                                       'cifar10.train wrote'):
        ['test_train_eval.py::test_the_data_as_checkpoint_dir_is_named_as_the_'
         'data'],
    ('cifar10/support/checkpoints.py', 'Train first'):
        ['test_advice.py::test_no_checkpoint_then_train_first_as_printed'],
    ('cifar10/support/checkpoints.py', '--train_dir it was exported from'):
        ['test_advice.py::test_exported_model_as_checkpoint_dir_then_its_run_'
         'or_served'],
    ('cifar10/support/checkpoints.py', 'of its subfolders do: give one of'):
        ['test_advice.py::test_checkpoint_dir_above_two_runs_then_give_one'],
    # cifar10/support/classes.py
    ('cifar10/support/classes.py', 'Write one class name per line'):
        ['test_advice.py::test_malformed_meta_file_then_one_name_per_line'],
    ('cifar10/support/classes.py', 'Copy the %s of the data it was trained'):
        ['test_own_classes.py::test_predict_without_the_runs_names_says_what_'
         'to_copy_and_that_works'],
    ('cifar10/convert_images.py', 'not a class folder of images'):
        ['test_advice.py::test_an_export_among_class_folders_then_moved_out_'
         'as_told'],
    ('cifar10/support/training_run.py', 'to train on this data from that '
                                        'run\'s weights'):
        ['test_advice.py::test_other_class_names_then_fresh_or_another_dir',
         'test_advice.py::test_another_class_count_then_warm_started_as_told'],
    ('cifar10/support/classes.py', '(nothing was downloaded)'):
        ['test_own_classes.py::test_a_run_on_own_classes_without_its_data_is_'
         'refused_before_a_download'],
    # cifar10/support/data_choice.py
    ('cifar10/support/data_choice.py', 'extract it (tar -xzf %s -C %s) and '
                                       'run again'):
        ['test_advice.py::test_python_tarball_then_the_tar_command_it_prints'],
    ('cifar10/support/data_choice.py', "binary version (%s) or Python "
                                       'version (%s/) there, or give a new'):
        ['test_advice.py::test_unreadable_version_then_a_readable_one_or_a_'
         'new_data_dir'],
    ('cifar10/support/data_choice.py', 'Leave it out, or give --dataset '
                                       'cifar100'):
        ['test_advice.py::test_coarse_labels_of_cifar10_then_left_out_or_'
         'cifar100'],
    # cifar10/support/data_sets.py
    ('cifar10/support/data_sets.py', 'Put it back (%s holds it)'):
        ['test_advice.py::test_cifar100_names_file_missing_then_put_back_from_'
         'the_tarball'],
    # cifar10/support/download.py
    # A full disk (a 24 MB tmpfs filled to its last byte), with the
    # download's size known or not; test_download.py's
    # test_a_full_disk_while_extracting_is_one_line_and_leaves_nothing
    # makes room and runs again after an extraction that failed.
    ('cifar10/support/download.py', 'It needs about %d MB there: make room'):
        ['test_advice.py::test_full_disk_while_downloading_then_room_or_'
         'another_disk',
         'test_download.py::test_a_full_disk_while_extracting_is_one_line_'
         'and_leaves_nothing'],
    ('cifar10/support/download.py', 'Make room'):
        ['test_advice.py::test_full_disk_while_downloading_then_room_or_'
         'another_disk'],
    ('cifar10/support/download.py', 'give a --data_dir on another disk'):
        ['test_advice.py::test_full_disk_while_downloading_then_room_or_'
         'another_disk'],
    ('cifar10/support/download.py', 'put them there, or give a --data_dir'):
        ['test_download.py::'
         'test_a_users_files_beside_missing_ones_stop_before_any_download',
         'test_advice.py::test_missing_files_then_put_them_there'],
    ('cifar10/support/download.py', 'extract them from the tarball: tar'):
        ['test_download.py::'
         'test_advice_the_tar_command_restores_only_the_missing_files'],
    ('cifar10/support/download.py', 'Let it finish, then run again'):
        ['test_advice.py::test_file_appearing_meanwhile_then_run_again'],
    ('cifar10/support/download.py', 'Try again, or use another --data_url'):
        ['test_advice.py::test_download_with_wrong_md5_then_again_or_mirror'],
    ('cifar10/support/download.py', 'Delete it and download it again'):
        ['test_advice.py::test_tarball_lacking_files_then_delete_and_again'],
    ('cifar10/support/download.py', 'Move it aside (%s) and run again'):
        ['test_download.py::'
         'test_advice_move_a_damaged_tarball_aside_and_run_again_downloads_'
         'it'],
    ('cifar10/support/download.py', 'Give the path of the %s'):
        ['test_advice.py::test_local_data_url_missing_or_damaged_then_the_'
         'path_of_a_whole_copy'],
    ('cifar10/support/download.py', 'give it as --data_dir instead'):
        ['test_advice.py::test_local_data_url_a_folder_of_the_data_then_as_'
         'data_dir'],
    ('cifar10/support/download.py', 'Give the path of a whole copy'):
        ['test_advice.py::test_local_data_url_missing_or_damaged_then_the_'
         'path_of_a_whole_copy'],
    ('cifar10/support/download.py', 'Without network access, put'):
        ['test_advice.py::test_no_network_then_each_way_it_names'],
    # cifar10/predict.py
    ('cifar10/predict.py', 'give the pictures in it'):
        ['test_advice.py::test_predict_a_folder_or_a_quoted_pattern_then_'
         'what_the_shell_expands',
         'test_advice.py::test_predict_a_folder_of_split_class_folders_then_'
         'the_pattern_named'],
    ('cifar10/predict.py', 'its wildcards unquoted'):
        ['test_advice.py::test_predict_a_folder_or_a_quoted_pattern_then_'
         'what_the_shell_expands'],
    # cifar10/support/flags.py
    ('cifar10/support/flags.py', 'argument %s: write %s=%s'):
        ['test_advice.py::test_flag_refusals_then_the_spelling_they_name'],
    ('cifar10/support/flags.py', 'did you mean %s?'):
        ['test_advice.py::test_flag_refusals_then_the_spelling_they_name'],
    ('cifar10/support/flags.py', 'is read as a flag: give a file'):
        ['test_advice.py::test_a_file_named_like_a_flag_then_dot_slash_or_'
         'after_dashes'],
    ('cifar10/support/flags.py', '--help lists the flags'):
        ['test_advice.py::test_flag_refusals_then_the_spelling_they_name'],
    ('cifar10/support/flags.py', 'or add --overwrite to replace it'):
        ['test_guide_scripts.py::test_an_existing_output_is_kept_then_a_new_'
         'file_or_overwrite',
         'test_plot_run.py::test_an_existing_output_is_kept_then_a_new_file_'
         'or_overwrite',
         'test_docs_flags.py::test_flags_doc_keeps_a_users_file_then_a_new_'
         'name_or_overwrite'],
    ('cifar10/support/flags.py', 'is a folder. Give a new file, such as'):
        ['test_guide_scripts.py::test_an_existing_output_is_kept_then_a_new_'
         'file_or_overwrite',
         'test_docs_flags.py::test_flags_doc_refuses_a_folder_then_a_file_'
         'in_it'],
    ('cifar10/support/flags.py', 'does not exist. Create it (mkdir -p'):
        ['test_guide_scripts.py::test_an_output_in_a_missing_folder_is_'
         'refused_then_made_as_told',
         'test_plot_run.py::test_an_output_in_a_missing_folder_is_refused_'
         'then_made_as_told',
         'test_docs_flags.py::test_flags_doc_refuses_a_missing_folder_in_one_'
         'line_then_made_as_told'],
    ('cifar10/support/flags.py', 'Give an --output in a folder, such as'):
        ['test_guide_scripts.py::test_an_output_below_a_file_is_refused_then_'
         'one_in_a_folder'],
    ('cifar10/support/flags.py', 'Give one of them'):
        ['test_advice.py::test_run_once_with_all_checkpoints_then_one_of_them'],
    ('cifar10/support/summaries.py', 'Give the folder of a run\'s event '
                                     'files'):
        ['test_plot_run.py::test_a_folder_with_a_name_not_utf8_then_the_'
         'runs_folder',
         'test_guide_scripts.py::test_eval_image_of_a_folder_with_a_name_not_'
         'utf8_then_the_eval_dir'],
    ('cifar10/support/flags.py', 'so the file must be named .png'):
        ['test_guide_scripts.py::test_eval_image_refuses_a_name_of_another_'
         'format_then_the_png',
         'test_guide_scripts.py::test_distortion_picture_refuses_a_name_of_'
         'another_format_then_the_png'],
    ('cifar10/support/flags.py', 'Give a name before it'):
        ['test_plot_run.py::test_an_ending_alone_is_refused_then_a_name_'
         'before_it',
         'test_guide_scripts.py::test_eval_image_refuses_an_ending_alone_then_'
         'a_name_before_it'],
    ('cifar10/support/flags.py', 'an empty path; give %s'):
        ['test_advice.py::test_empty_path_refused_then_a_folder_given'],
    # cifar10/support/kernel_choice.py
    ('cifar10/support/kernel_choice.py', 'set TF_ENABLE_ONEDNN_OPTS=0'):
        ['test_kernel_choice.py::test_the_users_own_setting_wins'],
    # cifar10/support/errors.py (script.run says it for a refusal met
    # anywhere, storage.check_writable before the work starts)
    ('cifar10/support/errors.py', 'Give a folder you can read and write'):
        ['test_output.py::test_a_folder_that_cannot_be_written_is_one_line_'
         'then_another_works',
         'test_faults.py::test_a_read_only_train_dir_is_refused_before_'
         'training_then_resumes',
         'test_output.py::test_a_checkpoint_folder_that_cannot_be_read_is_'
         'not_called_unwritable',
         'test_download.py::test_a_data_dir_that_cannot_be_written_is_'
         'refused_before_the_download'],
    # A full disk met anywhere (script.run, the converter): a 96 MB tmpfs
    # filled to its last byte, then emptied of its filler.
    ('cifar10/support/errors.py', 'Make room there (or fix the cause) and '
                                  'run again.'):
        ['test_faults.py::test_a_full_disk_is_one_line_for_each_script_then_'
         'room_and_run_again'],
    ('cifar10/support/errors.py', 'Make room on the disk the script writes'):
        ['test_faults.py::test_a_full_disk_is_one_line_for_each_script_then_'
         'room_and_run_again'],
    # cifar10/support/script.py
    ('cifar10/support/script.py', 'Give a path that does not go through'):
        ['test_advice.py::test_a_path_below_a_file_then_one_that_does_not_go_'
         'through_it'],
    # cifar10/support/paths.py
    ('cifar10/support/paths.py', 'If that run is this one, moved since'):
        ['test_advice.py::test_eval_dir_of_a_moved_run_then_its_new_place_'
         'recorded'],
    ('cifar10/support/paths.py', 'a new folder of its own, such as'):
        ['test_advice.py::test_data_into_another_tools_folder_then_a_new_one',
         'test_advice.py::test_data_into_folders_of_pictures_at_the_top_then_'
         'beside_that_one'],
    ('cifar10/support/paths.py', 'If it was not started over'):
        ['test_advice.py::test_eval_dir_of_a_run_whose_first_event_file_was_'
         'deleted_then_dropped'],
    ('cifar10/support/paths.py', 'Give a folder for the event files'):
        ['test_advice.py::test_path_flags_refused_then_the_paths_they_name'],
    ('cifar10/support/paths.py', 'Give the folder that holds'):
        ['test_advice.py::test_path_flags_refused_then_the_paths_they_name'],
    ('cifar10/support/paths.py', 'Point it at the folder where the data'):
        ['test_guide_scripts.py::test_distortion_picture_refuses_a_missing_'
         'data_dir_then_the_data',
         'test_guide_scripts.py::test_distortion_picture_refuses_an_empty_'
         'folder_or_a_run_then_the_data'],
    ('cifar10/support/paths.py', 'inside it: move them into'):
        ['test_advice.py::test_path_flags_refused_then_the_paths_they_name'],
    ('cifar10/support/paths.py', 'move them into a folder per class inside '
                                 'it'):
        ['test_advice.py::test_data_dir_of_loose_pictures_then_sorted_and_'
         'converted_as_told'],
    ('cifar10/support/paths.py', 'add a folder of pictures for each other '
                                 'class beside'):
        ['test_advice.py::test_data_dir_of_one_class_folder_then_another_'
         'added_and_converted'],
    ('cifar10/support/paths.py', 'convert them first'):
        ['test_advice.py::test_data_dir_of_pictures_then_converted_as_told'],
    ('cifar10/support/paths.py',
     'read data in CIFAR-10\'s format: %s (python -m '):
        ['test_advice.py::test_data_dir_of_pictures_then_converted_as_told',
         'test_advice.py::test_data_dir_of_loose_pictures_then_sorted_and_'
         'converted_as_told',
         'test_advice.py::test_data_dir_of_one_class_folder_then_another_'
         'added_and_converted',
         'test_advice.py::test_advice_on_paths_with_a_space_and_an_umlaut_'
         'pasted_into_a_shell'],
    ('cifar10/support/paths.py', 'of its subfolders do: give one of them'):
        ['test_advice.py::test_path_flags_refused_then_the_paths_they_name'],
    ('cifar10/support/paths.py', 'give its folder, %s, to resume'):
        ['test_advice.py::test_train_dir_one_level_off_then_the_run_resumes',
         'test_advice.py::test_advice_on_paths_with_a_space_and_an_umlaut_'
         'pasted_into_a_shell'],
    ('cifar10/support/paths.py', 'or a folder name without .ckpt'):
        ['test_raw_weights.py::'
         'test_train_dir_named_like_a_missing_checkpoint_is_refused',
         'test_advice.py::test_train_dir_one_level_off_then_the_run_resumes'],
    ('cifar10/support/paths.py', 'or a new folder to start another'):
        ['test_advice.py::test_train_dir_one_level_off_then_the_run_resumes'],
    ('cifar10/support/paths.py', 'Give a new --train_dir; to evaluate, '
                                 'predict with or export them'):
        ['test_advice.py::test_unlisted_checkpoints_then_a_new_train_dir_or_'
         'checkpoint_dir'],
    # cifar10/support/pickled_batches.py: each damaged file replaced by the
    # genuine one, extracted from a tarball of the data set's Python version.
    ('cifar10/support/pickled_batches.py', 'refused to load it'):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', 'is not a readable pickle'):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', 'not the dictionary of a CIFAR'):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', 'has no %r entry'):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', "its 'data' is not an array"):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', 'are not %d integers'):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', 'belongs to other data: replace'):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', 'is not a list of names'):
        ['test_advice.py::test_damaged_python_batch_then_the_genuine_file_'
         'from_the_tarball'],
    ('cifar10/support/pickled_batches.py', 'Put it back, or give a '
                                           '--data_dir holding the whole'):
        ['test_advice.py::test_python_version_lacking_a_file_then_put_back_'
         'or_the_whole'],
    ('cifar10/support/pickled_batches.py', 'or set TMPDIR to a folder'):
        ['test_advice.py::test_no_room_for_the_converted_copy_then_room_or_'
         'tmpdir'],
    # cifar10/support/run_as_file.py
    ('cifar10/support/run_as_file.py', 'run it as one, from the folder'):
        ['test_advice.py::test_module_run_as_a_file_then_the_command_it_names'],
    ('cifar10/support/run_as_file.py', 'Run a script from the folder'):
        ['test_advice.py::test_module_run_as_a_file_then_the_command_it_names'],
    ('cifar10/support/run_as_file.py', 'Run one of the scripts, such as'):
        ['test_advice.py::test_module_run_as_a_file_then_the_command_it_names'],
    # cifar10/support/session_options.py
    ('cifar10/support/session_options.py', 'precision of the model: give '
                                           'one'):
        ['test_advice.py::test_two_precisions_then_one_of_them'],
    ('cifar10/support/session_options.py', 'Give it on the command line of '
                                           'a fresh process'):
        ['test_advice.py::test_threads_too_late_then_a_fresh_process'],
    # cifar10/support/storage.py
    ('cifar10/support/storage.py', 'Give a local path, or one of those'):
        ['test_advice.py::test_url_refused_then_a_local_path_or_one_served'],
    # Checking a GCS address needs network access: the test gives a local
    # path after an address this TensorFlow cannot reach here.
    ('cifar10/support/storage.py', 'Check the address and your access'):
        ['test_advice.py::test_url_refused_then_a_local_path_or_one_served'],
    ('cifar10/support/storage.py', 'Give a path of UTF-8 names: rename'):
        ['test_advice.py::test_path_not_utf8_refused_then_renamed_or_'
         'another'],
    # cifar10/support/trained_layers.py ('--trainable_scopes : name at least
    # one scope; the model's scopes are conv1, ...')
    ('cifar10/support/trained_layers.py', 'name at least one scope'):
        ['test_warm_start.py::test_no_scope_named_then_one_of_those_it_lists'],
    # cifar10/support/training_run.py
    ('cifar10/support/training_run.py', 'to go on with that run, or copy its '
                                        'checkpoint files'):
        ['test_advice.py::test_a_run_naming_another_folders_checkpoint_then_'
         'that_run_or_a_copy'],
    ('cifar10/support/eval_report.py', 'each would write its results there'):
        ['test_eval_dir_lock.py::test_a_second_evaluator_is_refused_then_runs_'
         'once_the_first_stops'],
    ('cifar10/support/classes.py', 'give that flag to evaluate on its test'):
        ['test_advice.py::test_eval_without_the_runs_data_dir_then_as_'
         'recorded'],
    ('cifar10/predict.py', 'not its standard input'):
        ['test_advice.py::test_standard_input_then_a_file'],
    ('cifar10/support/flags.py', 'Give the flags before'):
        ['test_advice.py::test_a_file_named_like_a_flag_then_dot_slash_or_'
         'after_dashes'],
    ('cifar10/support/training_run.py', 'give this run another --train_dir'):
        ['test_checkpoint_fit.py::test_training_refuses_a_checkpoint_with_an_'
         'extra_variable'],
    ('cifar10/support/training_run.py', 'run with --fresh to start over (that '
                                        'removes the earlier'):
        ['test_advice.py::test_unusable_checkpoint_then_fresh_or_another_dir'],
    ('cifar10/support/training_run.py', 'to resume from it, move the files'):
        ['test_advice.py::test_damaged_newest_then_set_aside_and_the_run_'
         'resumes_from_the_older'],
    ('cifar10/support/training_run.py', 'fix the cause and run again to '
                                        'resume'):
        ['test_faults.py::'
         'test_data_file_truncated_mid_run_is_named_and_the_run_resumes'],
    ('cifar10/support/training_run.py', 'Move %s out of %s, or give another'):
        ['test_advice.py::test_users_files_in_train_dir_then_moved_or_another_'
         'dir'],
    ('cifar10/support/training_run.py', 'Give another --train_dir'):
        ['test_advice.py::test_train_dir_a_file_then_another_train_dir'],
    ('cifar10/support/training_run.py', 'two runs there would save over'):
        ['test_train_dir_lock.py::test_a_second_trainer_is_refused_while_one_'
         'runs_then_runs_as_advised',
         'test_train_dir_lock.py::test_a_finished_or_killed_trainer_leaves_'
         'its_folder_free'],
    ('cifar10/support/paths.py', 'mix the two in one run. Give --eval_dir'):
        ['test_advice.py::test_eval_dir_a_run_folder_then_one_of_its_own',
         'test_advice.py::test_eval_dir_offered_is_free_and_named_after_the_'
         'run',
         'test_advice.py::test_advice_on_paths_with_a_space_and_an_umlaut_'
         'pasted_into_a_shell'],
    ('cifar10/support/paths.py', 'files would land among those files. Give'):
        ['test_advice.py::test_eval_dir_the_data_then_one_of_its_own',
         'test_advice.py::test_eval_dir_offered_is_free_and_named_after_the_'
         'run'],
    ('cifar10/support/paths.py', 'holds evaluations of %s'):
        ['test_eval_all_checkpoints.py::test_an_eval_dir_of_other_data_is_'
         'refused_then_one_of_its_own'],
    ('cifar10/support/paths.py', 'holds the evaluations of another run'):
        ['test_advice.py::test_eval_dir_of_another_runs_evaluations_then_one_'
         'of_its_own'],
    ('cifar10/support/paths.py', 'so the folder was started over since'):
        ['test_advice.py::test_eval_dir_of_a_run_started_over_then_one_of_'
         'its_own',
         'test_advice.py::test_waiting_eval_then_the_run_started_over_beside_'
         'it',
         'test_advice.py::test_eval_dir_at_a_url_of_a_run_started_over_then_'
         'one_of_its_own'],
    ('cifar10/support/training_run.py', 'among those files. Give a '
                                        '--train_dir of its own'):
        ['test_advice.py::test_train_dir_the_data_or_an_export_then_a_folder_'
         'of_its_own'],
    ('cifar10/support/training_run.py', 'would delete them. Give a '
                                        '--train_dir of its own'):
        ['test_advice.py::test_train_dir_an_eval_dir_then_a_folder_of_its_own'],
    ('cifar10/support/training_run.py', 'Train into a new folder instead'):
        ['test_advice.py::test_warm_start_from_the_run_fresh_clears_then_a_'
         'new_folder_or_a_copy',
         'test_advice.py::test_resumed_with_its_own_checkpoint_as_source_then_'
         'a_new_folder'],
    ('cifar10/support/training_run.py', 'copy the checkpoint out first'):
        ['test_advice.py::test_warm_start_from_the_run_fresh_clears_then_a_'
         'new_folder_or_a_copy'],
    ('cifar10/support/training_run.py', 'Lower the learning rate: run '
                                        'again'):
        ['test_advice.py::test_diverged_run_then_the_lower_rate_it_names'],
    ('cifar10/support/training_run.py', 'or less for batches without'):
        ['test_advice.py::test_batch_over_the_records_then_the_size_it_names'],
    ('cifar10/support/training_run.py', 'Raise --max_steps to train further'):
        ['test_advice.py::test_nothing_to_do_then_raise_max_steps'],
    ('cifar10/support/training_run.py', 'Use --fresh to start over'):
        ['test_train_eval.py::test_fresh_removes_only_the_earlier_run'],
    ('cifar10/support/training_run.py', 'Run the same command again to '
                                        'resume'):
        ['test_advice.py::test_stopped_run_then_the_same_command_resumes'],
    ('cifar10/support/training_run.py', 'Run the same command again to '
                                        'rejoin the cluster'):
        ['test_dist_train.py::test_an_asynchronous_worker_stopped_says_what_'
         'the_others_do_and_rejoins',
         'test_dist_train.py::test_synchronous_workers_killed_or_stopped_'
         'rejoin_and_the_run_goes_on'],
    ('cifar10/support/training_run.py', 'is intact: make room there'):
        ['test_faults.py::test_a_full_disk_as_a_resumed_run_opens_keeps_its_'
         'checkpoint',
         'test_advice.py::test_full_disk_then_free_space_and_run_again'],
    ('cifar10/support/training_run.py', 'Nothing was trained: make room'):
        ['test_faults.py::test_a_disk_too_full_for_the_first_checkpoint_is_'
         'one_line'],
    # cifar10/support/warm_start.py
    ('cifar10/support/warm_start.py', 'or leave it out to start from random'):
        ['test_warm_start.py::test_the_advice_of_each_refused_source_followed_'
         'leads_to_a_run'],
    ('cifar10/support/warm_start.py', 'Point it at the --train_dir of a '
                                      'training run, or at one'):
        ['test_warm_start.py::test_the_advice_of_each_refused_source_followed_'
         'leads_to_a_run',
         'test_advice.py::test_resumed_with_a_source_fresh_refuses_then_as_that_'
         'refusal_says'],
    ('cifar10/support/warm_start.py', 'To train on that data, give it as '
                                      '--data_dir'):
        ['test_warm_start.py::test_a_data_set_as_source_then_as_data_dir_or_a_'
         'run_or_left_out'],
    ('cifar10/support/training_run.py', 'use --fresh to start over from %s'):
        ['test_warm_start.py::test_a_resumed_run_ignoring_the_flag_then_fresh_'
         'starts_from_it',
         'test_advice.py::test_resumed_with_a_source_fresh_refuses_then_as_that_'
         'refusal_says'],
}

# (module, fragment) -> why the string matches _GIVES_ADVICE but tells the
# user nothing to do. Empty now; an entry needs a reason a reviewer accepts.
NOT_ADVICE = {}


def _package_modules():
  return sorted(os.path.relpath(path, REPO) for path in glob.glob(
      os.path.join(REPO, 'cifar10', '**', '*.py'), recursive=True))


def _documenting(node):
  name = getattr(node.func, 'attr', getattr(node.func, 'id', None))
  return name in _DOCUMENTING_CALLS


def _help_variables(function):
  """The ids of the strings `function` assigns to a variable that it then
  passes to a documenting call (a help text chosen by a condition)."""
  passed = {argument.id for node in ast.walk(function)
            if isinstance(node, ast.Call) and _documenting(node)
            for argument in node.args + [keyword.value
                                         for keyword in node.keywords]
            if isinstance(argument, ast.Name)}
  return {id(sub) for node in ast.walk(function)
          if isinstance(node, ast.Assign) and any(
              isinstance(target, ast.Name) and target.id in passed
              for target in node.targets)
          for sub in ast.walk(node.value)}


def _documentation(tree):
  """The ids of a tree's docstring and help-text nodes."""
  skipped = set()
  for node in ast.walk(tree):
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)):
      first = node.body[0] if node.body else None
      if isinstance(first, ast.Expr) and isinstance(first.value,
                                                    ast.Constant):
        skipped.add(id(first.value))
    if isinstance(node, ast.FunctionDef):
      skipped.update(_help_variables(node))
    if isinstance(node, ast.Call) and _documenting(node):
      skipped.update(id(sub) for sub in ast.walk(node))
  return skipped


def advice_strings():
  """[(module, line, text)] of every string in the package that gives advice.

  Adjacent literals are one string in the tree ('a ' 'b'); the pieces of a
  message joined at run time ('%s. %s' % (..., ADVICE)) are each listed.
  """
  found = []
  for module in _package_modules():
    with open(os.path.join(REPO, module), encoding='utf-8') as source:
      tree = ast.parse(source.read())
    skipped = _documentation(tree)
    for node in ast.walk(tree):
      if (isinstance(node, ast.Constant) and isinstance(node.value, str) and
          id(node) not in skipped and ' ' in node.value and
          _GIVES_ADVICE.search(node.value)):
        found.append((module, node.lineno, node.value))
  return sorted(found)


def _entries_for(module, text):
  return [key for key in list(ADVICE) + list(NOT_ADVICE)
          if key[0] == module and key[1] in text]


def test_every_message_that_gives_advice_has_an_entry():
  unlisted = ['%s:%d: %r' % (module, line, text)
              for module, line, text in advice_strings()
              if not _entries_for(module, text)]
  assert not unlisted, (
      'Messages that tell the user to do something, without a test that '
      'does it (add each to ADVICE, with the test that follows it, or to '
      'NOT_ADVICE with the reason):\n' + '\n'.join(unlisted))


def test_each_entry_names_one_message_that_exists():
  texts = advice_strings()
  for key in list(ADVICE) + list(NOT_ADVICE):
    module, fragment = key
    matches = [text for found_module, _, text in texts
               if found_module == module and fragment in text]
    assert len(matches) == 1, (
        '%s %r names %d messages: %r' % (module, fragment, len(matches),
                                          matches))
  for module, _, text in texts:
    assert len(_entries_for(module, text)) == 1, (module, text)


@functools.lru_cache(maxsize=None)
def _test_names(file_name):
  with open(os.path.join(TESTS, file_name), encoding='utf-8') as source:
    tree = ast.parse(source.read())
  return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
          and node.name.startswith('test_')}


def test_each_entry_names_tests_that_exist():
  missing = []
  for key, tests in ADVICE.items():
    assert tests, '%s %r: no test follows it' % key
    for test in tests:
      file_name, name = test.split('::')
      if not os.path.exists(os.path.join(TESTS, file_name)) or \
          name not in _test_names(file_name):
        missing.append('%s %r: %s' % (key + (test,)))
  assert not missing, 'Tests named in ADVICE that do not exist:\n' + \
      '\n'.join(missing)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _refusal(function, *args, **kwargs):
  """The message of the UserError that `function(*args, **kwargs)` raises."""
  with pytest.raises(errors.UserError) as raised:
    function(*args, **kwargs)
  return str(raised.value)


def _flag_refusal(parse, argv, capsys):
  """The complaint of a parser refusing `argv` (exit status 2)."""
  with pytest.raises(SystemExit) as raised:
    parse(argv)
  assert raised.value.code == 2
  return capsys.readouterr().err


def _group(pattern, text):
  match = re.search(pattern, text)
  assert match, 'no %r in %r' % (pattern, text)
  return match.group(1)


# One word of a shell command as advice writes it (paths.for_shell): plain,
# or in single quotes where the path holds a space, a quote or a letter
# outside ASCII, such as 'runs/run ü 1'.
_WORD = r"""((?:'[^']*'|[^\s'])+)"""


def _typed(pattern, text):
  """The path that advice in `text` gives to be typed where `pattern` has
  WORD, as a shell reads it: advice followed literally is pasted, quotes
  and all."""
  words = shlex.split(_group(pattern.replace('WORD', _WORD), text))
  assert len(words) == 1, words
  return words[0]


@pytest.fixture(scope='module')
def small_data(tmp_path_factory):
  """A --data_dir of 5 x 40 training and 50 test records."""
  data_dir = str(tmp_path_factory.mktemp('advice_data'))
  synthetic.write_synthetic_dataset(data_dir, train_records_per_file=40,
                                    test_records=50, seed=1)
  return data_dir


def _train(data_dir, train_dir, max_steps, *extra):
  return train.main(['--data_dir', data_dir, '--train_dir', train_dir,
                     '--max_steps', str(max_steps), '--batch_size', '4'] +
                    list(extra))


@pytest.fixture(scope='module')
def small_run(small_data, tmp_path_factory):
  """A --train_dir after 2 steps on small_data."""
  train_dir = str(tmp_path_factory.mktemp('advice_run'))
  assert _train(small_data, train_dir, 2) == 0
  return train_dir


def _copy_run(run, folder):
  shutil.copytree(run, folder)
  return str(folder)


def _eval(data_dir, checkpoint_dir, eval_dir, *extra):
  # Once, or each checkpoint with --all_checkpoints, which refuses
  # --run_once beside it.
  once = [] if '--all_checkpoints' in extra else ['--run_once']
  return cifar10_eval.main(['--data_dir', data_dir, '--checkpoint_dir',
                            checkpoint_dir, '--eval_dir', str(eval_dir),
                            '--num_examples', '20', '--batch_size', '20'] +
                           once + list(extra))


# ---------------------------------------------------------------------------
# convert_images
# ---------------------------------------------------------------------------

def _png(path, value=0, size=32):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(np.full([size, size, 3], value, np.uint8)).save(path)


def _converts(src, out, *flags):
  assert convert_images.main([str(src), str(out)] + list(flags)) == 0
  assert os.path.exists(os.path.join(str(out), BIN, 'test_batch.bin'))


def test_convert_one_class_then_add_another(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a',))
  assert 'add a folder of images for each other class' in _refusal(
      convert_images.main, [src, str(tmp_path / 'out')])
  _class_folder(src, 4, names=('b',))  # "a folder of images".
  _converts(src, tmp_path / 'out')


def test_convert_an_empty_folder_then_two_classes(tmp_path):
  # Before: "holds no class folders ... add a folder of images for each
  # other class", other than none.
  src = tmp_path / 'src'
  src.mkdir()
  assert _refusal(convert_images.main, [str(src), str(tmp_path / 'out')]) == (
      '%s holds no class folders, but a classifier needs 2 classes at least: '
      'add a folder of images for each class.' % src)
  _class_folder(str(src), 4, names=('a', 'b'))
  _converts(src, tmp_path / 'out')


def test_convert_loose_pictures_then_into_a_class_folder_beside_another(
    tmp_path):
  # Before: "holds no class folders ... add a folder of images for each
  # other class", and once two were added, the loose pictures were left out
  # of a data set that converted without them (status 0).
  cats = tmp_path / 'cats'
  for index in range(4):
    _png(str(cats / ('%d.png' % index)), 10 * index)
  message = _refusal(convert_images.main, [str(cats), str(tmp_path / 'out')])
  assert message == (
      '%s holds no class folders, but a classifier needs 2 classes at least: '
      'add a folder of images for each other class. The 4 pictures directly '
      'in it (0.png, 1.png, 2.png, ...) are in no class: move them into a '
      'folder of their class inside it, such as %s.' % (cats, cats / 'cats'))
  # "move them into a folder of their class inside it, such as CATS/cats".
  folder = _typed(r'such as WORD\.$', message)
  os.mkdir(folder)
  for index in range(4):
    os.rename(str(cats / ('%d.png' % index)),
              os.path.join(folder, '%d.png' % index))
  _class_folder(str(cats), 4, names=('dogs',))  # "for each other class".
  _converts(cats, tmp_path / 'out')
  assert batch_files.data_classes(str(tmp_path / 'out')).names == (
      'cats', 'dogs')


def test_convert_257_classes_then_merge_or_leave_one(tmp_path):
  src = tmp_path / 'src'
  for split in ('train', 'test'):
    for index in range(257):
      _png(str(src / split / ('c%03d' % index) / '0.png'), index % 256)
  message = _refusal(convert_images.main, [str(src), str(tmp_path / 'out')])
  assert 'Merge classes, or convert a part of them' in message
  # "convert a part of them": the others, without class c256.
  part = tmp_path / 'part'
  for split in ('train', 'test'):
    shutil.copytree(str(src / split), str(part / split),
                    ignore=lambda folder, names: [n for n in names
                                                  if n == 'c256'])
  _converts(part, tmp_path / 'out_part')
  # "Merge classes": c256's images into c255, its folder gone.
  for split in ('train', 'test'):
    os.rename(str(src / split / 'c256' / '0.png'),
              str(src / split / 'c255' / '1.png'))
    os.rmdir(str(src / split / 'c256'))
  _converts(src, tmp_path / 'out_merged')


def test_convert_src_a_file_then_give_the_folder(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a', 'b'))
  image = os.path.join(src, 'a', '000.png')
  message = _refusal(convert_images.main, [image, str(tmp_path / 'out')])
  assert message.startswith('SRC %s is not a folder. Give the folder holding '
                            'one subfolder of images per class' % image)
  _converts(src, tmp_path / 'out')


def test_convert_too_few_then_add_images_or_lower(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a', 'b'))  # 8 images.
  message = _refusal(convert_images.main, [src, str(tmp_path / 'out'),
                                           '--test_fraction', '0.5'])
  lowered = _group(r'Add images, or lower --test_fraction to ([\d.]+)\.$',
                   message)
  assert float(lowered) < 0.5
  _converts(src, tmp_path / 'lowered', '--test_fraction', lowered)
  # Where no lower fraction leaves both splits filled, none is advised:
  # 2 + 2 images cannot make 5 training files and a test split.
  few = str(tmp_path / 'few')
  _class_folder(few, 2, names=('a', 'b'))
  message = _refusal(convert_images.main, [few, str(tmp_path / 'out'),
                                           '--test_fraction', '0.5'])
  assert message.endswith('each needing one image at least. Add images.')
  for fraction in ('0.4', '0.3', '0.25', '0.2', '0.1'):  # As it said.
    assert 'lower --test_fraction' not in _refusal(
        convert_images.main, [few, str(tmp_path / 'out'),
                              '--test_fraction', fraction])
  _class_folder(few, 6, names=('a', 'b'))  # "Add images".
  _converts(few, tmp_path / 'added', '--test_fraction', '0.5')


def test_convert_out_refused_then_give_another_out(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a', 'b'))
  inside = os.path.join(src, 'converted')
  assert 'Give an OUT folder outside SRC' in _refusal(
      convert_images.main, [src, inside])
  a_file = tmp_path / 'notes.txt'
  a_file.write_text('mine')
  assert 'OUT %s is a file. Give a folder to write %s/ into.' % (
      a_file, BIN) == _refusal(convert_images.main, [src, str(a_file)])
  taken = tmp_path / 'taken'
  (taken / BIN).mkdir(parents=True)
  (taken / BIN / 'test_batch.bin').write_bytes(b'mine')
  message = _refusal(convert_images.main, [src, str(taken)])
  assert 'Give another OUT folder (a new one), or move that data away first' \
      in message
  blocked = tmp_path / 'blocked'
  blocked.mkdir()
  (blocked / BIN).write_text('mine')
  assert 'exists and is a file. Give another OUT folder' in _refusal(
      convert_images.main, [src, str(blocked)])
  _converts(src, tmp_path / 'new')  # Another, new OUT folder, outside SRC.
  # "or move that data away first": then the same OUT folder takes it.
  shutil.move(str(taken / BIN), str(tmp_path / 'moved_away'))
  _converts(src, taken)


def test_convert_unusable_images_then_replace_them(tmp_path, capsys):
  for case, bad in (('train', r'Only \d+ training images'),
                    ('test', 'No test image of'),
                    ('class', 'Class b has no usable training image')):
    src = tmp_path / case
    _class_folder(str(src / 'train'), 5, names=('a', 'b'))
    _class_folder(str(src / 'test'), 2, names=('a', 'b'))
    damaged = {'train': [src / 'train' / name / ('%03d.png' % index)
                         for name in ('a', 'b') for index in range(4)],
               'test': [src / 'test' / name / ('%03d.png' % index)
                        for name in ('a', 'b') for index in range(2)],
               'class': [src / 'train' / 'b' / ('%03d.png' % index)
                         for index in range(5)]}[case]
    for path in damaged:
      path.write_bytes(b'not an image')
    message = _refusal(convert_images.main, [str(src), str(tmp_path / 'out')])
    assert re.search(bad, message) and 'Fix or replace' in message, message
    named = [line.split()[1].rstrip(':') for line in
             capsys.readouterr().out.splitlines()
             if line.startswith('skipped ')]
    assert sorted(named) == sorted(str(path) for path in damaged)
    for path in named:  # "replace those files" the lines above named.
      _png(path, 99)
    _converts(src, tmp_path / ('out_' + case))


def test_convert_bad_class_folder_names_then_rename(tmp_path):
  for bad_name in ('two\nlines', ' ', os.fsdecode(b'caf\xe9')):
    src = tmp_path / 'src'
    _class_folder(str(src), 4, names=('a', bad_name))
    assert 'Rename the folder.' in _refusal(
        convert_images.main, [str(src), str(tmp_path / 'out')])
    os.rename(str(src / bad_name), str(src / 'b'))
    _converts(src, tmp_path / 'out')
    shutil.rmtree(str(src))
    shutil.rmtree(str(tmp_path / 'out'))


def test_convert_empty_class_then_fill_or_remove_it(tmp_path):
  src = tmp_path / 'src'
  _class_folder(str(src), 4, names=('a', 'b'))
  (src / 'c').mkdir()
  message = _refusal(convert_images.main, [str(src), str(tmp_path / 'out')])
  folder = _group(r'^Class folder (.*) holds no files: put its images there, '
                  r'or remove the folder', message)
  (src / 'c').rmdir()  # "remove the folder".
  _converts(src, tmp_path / 'removed')
  for index in range(4):  # "put its images there".
    _png(os.path.join(folder, '%d.png' % index), 200 + index)
  _converts(src, tmp_path / 'filled')


def test_convert_train_without_test_then_either_way(tmp_path):
  src = tmp_path / 'src'
  _class_folder(str(src / 'train'), 5, names=('a', 'b'))
  message = _refusal(convert_images.main, [str(src), str(tmp_path / 'out')])
  test_folder = _group(r'Add (\S+) with the same class folders', message)
  assert 'or put the class folders directly in SRC to split them with ' \
      '--test_fraction' in message
  flat = tmp_path / 'flat'  # The class folders directly in SRC.
  shutil.copytree(str(src / 'train'), str(flat))
  _converts(flat, tmp_path / 'out_flat', '--test_fraction', '0.2')
  _class_folder(test_folder, 2, names=('a', 'b'))  # Added, same classes.
  _converts(src, tmp_path / 'out_split')


def test_convert_fraction_of_split_layout_then_leave_it(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(os.path.join(src, 'train'), 5, names=('a', 'b'))
  _class_folder(os.path.join(src, 'test'), 2, names=('a', 'b'))
  assert _refusal(convert_images.main, [src, str(tmp_path / 'out'),
                                        '--test_fraction', '0.5']).endswith(
                                            'leave --test_fraction out.')
  _converts(src, tmp_path / 'out')


def test_convert_splits_differ_then_add_or_remove(tmp_path):
  src = tmp_path / 'src'
  _class_folder(str(src / 'train'), 5, names=('a', 'b', 'c'))
  _class_folder(str(src / 'test'), 2, names=('a', 'b'))
  message = _refusal(convert_images.main, [str(src), str(tmp_path / 'out')])
  extra = _group(r'but (\S+) is in only one of them\. Add the missing folder, '
                 r'or remove the extra one\.', message)
  assert extra == 'c'
  copy = tmp_path / 'copy'
  shutil.copytree(str(src), str(copy))
  shutil.rmtree(str(copy / 'train' / extra))  # "remove the extra one".
  _converts(copy, tmp_path / 'out_removed')
  _class_folder(str(src / 'test'), 2, names=(extra,))  # "Add the missing".
  _converts(src, tmp_path / 'out_added')


def test_convert_empty_test_split_then_raise_or_add(tmp_path):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a', 'b'))
  raised = _group(
      r'the largest class has 4 images\)\. Add images, or raise '
      r'--test_fraction to ([\d.]+)\.$',
      _refusal(convert_images.main, [src, str(tmp_path / 'out'),
                                     '--test_fraction', '0.1']))
  _converts(src, tmp_path / 'raised', '--test_fraction', raised)
  _class_folder(src, 10, names=('a', 'b'))  # "add images": 10 per class.
  _converts(src, tmp_path / 'added', '--test_fraction', '0.1')
  # Where no fraction would also leave the five training files filled (3
  # images), none is offered: raising it only led to another refusal.
  few = tmp_path / 'few'
  _class_folder(str(few), 2, names=('a',))
  _class_folder(str(few), 1, names=('b',))
  assert _refusal(convert_images.main, [str(few), str(tmp_path / 'out')]) == (
      '--test_fraction 0.2 of %s leaves the test split empty (the largest '
      'class has 2 images). Add images.' % few)
  for fraction in ('0.25', '0.5', '0.75', '0.95'):  # No fraction works...
    message = _refusal(convert_images.main, [str(few), str(tmp_path / 'out'),
                                             '--test_fraction', fraction])
    assert '--test_fraction to' not in message  # ...and none is offered.
  os.remove(str(few / 'a' / '001.png'))  # "1 image", not "1 images".
  assert _refusal(convert_images.main, [str(few), str(tmp_path / 'out')]) == (
      '--test_fraction 0.2 of %s leaves the test split empty (the largest '
      'class has 1 image). Add images.' % few)
  _class_folder(str(few), 4, names=('a', 'b'))  # "Add images".
  _converts(few, tmp_path / 'few_added')


@pytest.mark.parametrize('layout', ['split', 'classes'])
def test_data_into_a_class_folder_then_beside_the_pictures(layout, tmp_path,
                                                           capsys):
  # Before: the offer was beside the class folder (pictures/cat_data), that
  # is inside the pictures, where --data_dir PICTURES then trained on it.
  pictures = tmp_path / 'pictures'
  write_image_folder(str(pictures), {'cat': (200, 60, 60), 'dog': (60, 60, 200)},
                     np.random.default_rng(5), train_per_class=6,
                     test_per_class=2, size=40)
  inner = pictures / 'train' / 'cat'
  if layout == 'classes':
    for name in ('cat', 'dog'):
      shutil.move(str(pictures / 'train' / name), str(pictures / name))
    shutil.rmtree(str(pictures / 'train'))
    shutil.rmtree(str(pictures / 'test'))
    inner = pictures / 'cat'
  # Beside them, loose folders of pictures, and a run: the folder holding
  # them all is itself a folder of pictures (a home's, a project's).
  for loose in ('holiday', 'scans'):
    (tmp_path / loose).mkdir()
    _picture(tmp_path / loose / 'a.png')
  run = tmp_path / 'run'
  run.mkdir()
  (run / 'events.out.tfevents.1.host').write_bytes(b'')
  before = _listing(tmp_path)
  # Before: the offer climbed to the folder above them all (TMP_data, or
  # /home_data), whatever the folder refused.
  message = _refusal(synthetic.main, ['--data_dir', str(run)])
  assert message.endswith('such as %s_synthetic.' % run), message
  for folder in (inner, inner.parent):
    if folder == pictures and layout == 'classes':
      continue  # The pictures' own folder: test_data_into_another_tools...
    message = _refusal(synthetic.main, ['--data_dir', str(folder)])
    assert message.endswith('Give --data_dir a new folder of its own, such as '
                            '%s_synthetic.' % pictures), message
  assert _listing(tmp_path) == before
  # "Give --data_dir a new folder of its own, such as PICTURES_synthetic."
  assert synthetic.main(['--data_dir', str(pictures) + '_synthetic',
                         '--train_records_per_file', '10',
                         '--test_records', '10']) == 0
  assert _listing(pictures) == {
      os.path.relpath(name, 'pictures'): data
      for name, data in before.items() if name.startswith('pictures/')}
  # The pictures are still a folder of pictures to convert, not data.
  assert 'convert them first' in _refusal(paths.resolve_data_dir,
                                          str(pictures))
  capsys.readouterr()


def test_data_into_folders_of_pictures_at_the_top_then_beside_that_one(
    tmp_path, capsys, monkeypatch):
  # Before: two folders of pictures right in /tmp looked like the class
  # folders of /tmp, and the offer climbed to the root: /tmp_synthetic.
  top = os.path.join(os.sep, tmp_path.parts[1])  # /tmp, or TMPDIR's first.
  made = [os.path.join(top, '%s-%s' % (tmp_path.name, name))
          for name in ('cats', 'dogs')]
  try:
    for folder in made:
      os.mkdir(folder)
      _picture(os.path.join(folder, 'a.png'))
    message = _refusal(synthetic.main, ['--data_dir', made[0]])
    assert message.endswith('Give --data_dir a new folder of its own, such as '
                            '%s_synthetic.' % made[0]), message
    # "Give --data_dir a new folder of its own, such as CATS_synthetic."
    made.append(made[0] + '_synthetic')
    assert synthetic.main(['--data_dir', made[-1], '--train_records_per_file',
                           '10', '--test_records', '10']) == 0
    assert os.listdir(made[0]) == ['a.png']
    # Beside the top folder itself (what /tmp's pictures converted would
    # be offered, as /tmp_data), the offer is in the home folder instead.
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    assert paths.new_folder_beside(top, '_data') == os.path.join(
        str(home), os.path.basename(top) + '_data')
  finally:
    for folder in made:
      shutil.rmtree(folder, ignore_errors=True)
  capsys.readouterr()


def test_convert_a_converted_data_set_then_as_told(tmp_path, capsys):
  # Before: "holds only the class folder cifar-10-batches-bin, but a
  # classifier needs 2 classes", and beside class folders, "Class
  # cifar-10-batches-bin has no usable training image ... Fix or replace
  # its files".
  data = str(tmp_path / 'data')
  synthetic.write_synthetic_dataset(data, train_records_per_file=4,
                                    test_records=4)
  message = _refusal(convert_images.main, [data, str(tmp_path / 'out')])
  assert message == (
      'SRC %s is a converted data set already (it holds %s/), not a folder of '
      'images: give it to the trainer as --data_dir %s.' % (data, BIN, data))
  given = _typed(r'--data_dir WORD\.$', message)
  assert paths.resolve_data_dir(given) == given  # Read as it is.
  assert len(batch_files.data_classes(given).names) == 10
  # Its batch files' folder itself.
  message = _refusal(convert_images.main, [os.path.join(data, BIN),
                                           str(tmp_path / 'out')])
  assert message.startswith('SRC %s is the batch files\' folder of a '
                            'converted data set' % os.path.join(data, BIN))
  parent = _typed(r'give its parent to the trainer as --data_dir WORD\.$',
                  message)
  assert paths.resolve_data_dir(parent) == parent == data
  # Beside one's class folders (written there by cifar10.synthetic, before
  # it refused such a folder).
  src = tmp_path / 'src'
  _class_folder(str(src), 4, names=('a', 'b'))
  shutil.copytree(os.path.join(data, BIN), str(src / BIN))
  (tmp_path / 'src_data').mkdir()  # Taken: the folder offered is free.
  message = _refusal(convert_images.main, [str(src), str(tmp_path / 'out')])
  command = _group(r'Move it out of SRC \((mkdir [^)]*)\), then convert '
                   r'again; it is then a --data_dir of its own, ', message)
  moved = _typed(r'a --data_dir of its own, WORD\.$', message)
  assert moved == str(tmp_path / 'src_data_2')
  assert message.startswith('SRC %s holds %s/, a converted data set, beside '
                            'its class folders: it is no class of images. '
                            % (src, BIN))
  subprocess.run(command, shell=True, check=True)
  _converts(src, tmp_path / 'out')  # "then convert again".
  assert batch_files.data_classes(str(tmp_path / 'out')).names == ('a', 'b')
  assert paths.resolve_data_dir(moved) == moved  # "a --data_dir of its own".
  assert len(batch_files.data_classes(moved).names) == 10
  capsys.readouterr()


def test_convert_small_picture_then_a_larger_one_or_enlarged(tmp_path,
                                                             capsys):
  src = tmp_path / 'src'
  _class_folder(str(src), 4, names=('a', 'b'))
  small = str(src / 'a' / 'small.png')
  _png(small, 7, size=20)
  _converts(src, tmp_path / 'out')
  flag = _group(
      r'^skipped %s: 20x20 pixels, under 32 on a side: use a larger picture, '
      r'or convert again with (\S+) to stretch it up \(a little blurred\)$'
      % re.escape(small), capsys.readouterr().out.splitlines()[0])
  _converts(src, tmp_path / 'enlarged', flag)  # "convert again with" it.
  assert 'skipped' not in capsys.readouterr().out
  with open(str(tmp_path / 'enlarged' / BIN / 'split.csv')) as manifest:
    assert 'a/small.png,a,' in manifest.read()  # Converted, as promised.
  _png(small, 7, size=40)  # "use a larger picture".
  _converts(src, tmp_path / 'again')
  assert 'skipped' not in capsys.readouterr().out


def _test_images_of(out, name):
  """How many images of class `name` went to the test split of `out`."""
  with open(os.path.join(str(out), BIN, 'split.csv'), newline='') as file:
    return sum(1 for row in csv.reader(file) if row[1:3] == [name, 'test'])


def _notice(capsys):
  [line] = [line for line in capsys.readouterr().err.splitlines()
            if line.startswith('notice: class ')]
  return line


def test_convert_class_without_test_images_then_as_its_notice_says(
    tmp_path, capsys):
  # Before: nothing said so, and the evaluator reported the class on 0
  # images.
  src = tmp_path / 'src'
  _class_folder(str(src), 10, names=('a',))
  _class_folder(str(src), 2, names=('b',), start=20)
  _converts(src, tmp_path / 'out')
  folder, total, fraction = re.search(
      r'^notice: class b has 2 images, too few for --test_fraction 0.2 to '
      r'draw one into the test split, so the evaluator scores none of it\. '
      r'Add images to (\S+) \((\d+) in all at least\), or convert again '
      r'with --test_fraction (\S+)\.$', _notice(capsys)).groups()
  assert _test_images_of(tmp_path / 'out', 'b') == 0
  _converts(src, tmp_path / 'raised', '--test_fraction', fraction)
  assert _test_images_of(tmp_path / 'raised', 'b') == 1
  assert 'notice' not in capsys.readouterr().err
  for index in range(2, int(total)):  # "Add images", to that many.
    _png(os.path.join(folder, 'more_%d.png' % index), 100 + index)
  _converts(src, tmp_path / 'added')
  assert _test_images_of(tmp_path / 'added', 'b') == 1
  assert 'notice' not in capsys.readouterr().err

  # A class whose images are copies of one picture, which stays whole in
  # the training split.
  copies = tmp_path / 'copies'
  _class_folder(str(copies), 10, names=('a',))
  for index in range(3):
    _png(str(copies / 'b' / ('%d.png' % index)), 200)
  _converts(copies, tmp_path / 'copies_out')
  folder = _group(r'^notice: class b has no test image: its 3 images are '
                  r'copies of a few pictures, and each group of copies stays '
                  r'in one split \(see the identical images below\), so the '
                  r'evaluator scores none of it\. Add other pictures to '
                  r'(\S+)\.$', _notice(capsys))
  _png(os.path.join(folder, 'other.png'), 210)  # "Add other pictures".
  _converts(copies, tmp_path / 'copies_added')
  assert _test_images_of(tmp_path / 'copies_added', 'b') == 1
  assert 'notice' not in capsys.readouterr().err

  # SRC/train/ and SRC/test/, with every test file of a class unusable.
  splits = tmp_path / 'splits'
  _class_folder(str(splits / 'train'), 5, names=('a', 'b'))
  _class_folder(str(splits / 'test'), 2, names=('a',), start=5)
  os.makedirs(str(splits / 'test' / 'b'))
  (splits / 'test' / 'b' / 'broken.png').write_bytes(b'not a picture')
  _converts(splits, tmp_path / 'splits_out')
  folder = _group(r'^notice: class b has no usable test image \(see the '
                  r'skipped files above\), so the evaluator scores none of '
                  r'it\. Replace or fix the files in (\S+)\.$',
                  _notice(capsys))
  _png(os.path.join(folder, 'broken.png'), 77)  # "Replace ... the files".
  _converts(splits, tmp_path / 'splits_fixed')
  assert _test_images_of(tmp_path / 'splits_fixed', 'b') == 1
  assert 'notice' not in capsys.readouterr().err


def test_convert_classes_all_copies_then_other_pictures_added(tmp_path):
  # Before: "No test image of src could be used (see the skipped files
  # above) ... Fix or replace those files", where no file was skipped: each
  # class's six files held one picture, which the draw kept in training.
  src = tmp_path / 'src'
  for name, value in (('a', 10), ('b', 200)):
    for index in range(6):
      _png(str(src / name / ('%d.png' % index)), value)
  assert _refusal(convert_images.main, [str(src), str(tmp_path / 'out')]) == (
      'No image of %s went into the test split: the images of each class are '
      'copies of a few pictures (the same bytes, or the same pixels once '
      'decoded), and the draw keeps each group of copies in one split, which '
      'left the test split none at --test_fraction 0.2; nothing was written. '
      'Add other pictures to the class folders.' % src)
  assert not os.path.exists(str(tmp_path / 'out'))
  for name, value in (('a', 10), ('b', 200)):  # "Add other pictures".
    for index in range(4):
      _png(str(src / name / ('other_%d.png' % index)), value + 1 + index)
  _converts(src, tmp_path / 'out')


def test_convert_class_drawn_whole_into_test_then_add_or_lower(tmp_path,
                                                              capsys):
  # Before: "Class b has no usable training image (see the skipped files
  # above) ... Fix or replace its files", where no file was skipped.
  src = tmp_path / 'src'
  _class_folder(str(src), 20, names=('a',))
  _class_folder(str(src), 1, names=('b',), start=50)
  folder, total, lower = re.search(
      r'^Class b has 1 image, and --test_fraction 0.6 draws it into the test '
      r'split, leaving none to train on; nothing was written\. Add images to '
      r'(\S+) \((\d+) in all at least\), or lower --test_fraction to '
      r'(\S+)\.$', _refusal(convert_images.main, [
          str(src), str(tmp_path / 'out'), '--test_fraction', '0.6'])).groups()
  assert not os.path.exists(str(tmp_path / 'out'))
  _converts(src, tmp_path / 'lowered', '--test_fraction', lower)
  capsys.readouterr()
  for index in range(1, int(total)):  # "Add images", to that many.
    _png(os.path.join(folder, 'more_%d.png' % index), 100 + index)
  _converts(src, tmp_path / 'added', '--test_fraction', '0.6')
  assert 'notice' not in capsys.readouterr().err


# Kaggle's cats and dogs wrap each split in a folder of its name.
@pytest.mark.parametrize('splits', [
    ('training_set', 'test_set'), ('train', 'val'),
    ('training_set/training_set', 'test_set/test_set')])
def test_convert_folders_named_like_splits_then_renamed(tmp_path, splits):
  src = tmp_path / 'src'
  _class_folder(str(src / splits[0]), 5, names=('cat', 'dog'))
  _class_folder(str(src / splits[1]), 2, names=('cat', 'dog'), start=5)
  message = _refusal(convert_images.main, [str(src), str(tmp_path / 'out')])
  renames = _group(r'Rename (.*), the two splits the converter reads, then '
                   r'convert again\.$', message)
  for rename in renames.split(' and '):  # As written: "A to B and C to D".
    os.rename(*rename.split(' to '))
  _converts(src, tmp_path / 'out')
  assert classes.of_data(str(tmp_path / 'out' / BIN)).names == ('cat', 'dog')


def test_convert_copies_across_the_split_then_one_side_cleared(tmp_path,
                                                               capsys):
  src = tmp_path / 'src'
  _class_folder(str(src / 'train'), 5, names=('a', 'b'))
  _class_folder(str(src / 'test'), 2, names=('a', 'b'), start=5)
  shutil.copy(str(src / 'train' / 'b' / '001.png'),
              str(src / 'test' / 'b' / 'leak.png'))
  moved = tmp_path / 'moved'
  shutil.copytree(str(src), str(moved))
  _converts(src, tmp_path / 'out')
  printed = capsys.readouterr().out
  assert 'Delete or move the copies on one side.' in printed
  train_copy, test_copy = re.search(r'^  (train/\S+) = (test/\S+)$', printed,
                                    re.MULTILINE).groups()
  os.remove(str(src / test_copy))  # "Delete ... the copies on one side".
  _converts(src, tmp_path / 'deleted')
  assert 'Warning' not in capsys.readouterr().out
  # "or move" them: the test side's copy into the training side.
  shutil.move(str(moved / test_copy), str(moved / os.path.dirname(train_copy)
                                          / 'leak.png'))
  _converts(moved, tmp_path / 'moved_out')
  assert 'Warning' not in capsys.readouterr().out


# ---------------------------------------------------------------------------
# dist_train
# ---------------------------------------------------------------------------

def test_cluster_flags_refused_then_given():
  hosts = ['--ps_hosts', 'a:1', '--worker_hosts', 'b:2,c:3']
  parse = dist_train.parser().parse_args
  argv = ['--job_name', 'worker'] + hosts
  assert _refusal(dist_train.cluster_from, parse(argv), environ={}) == (
      "Give --task_index (this task's index in its job).")
  assert dist_train.cluster_from(parse(argv + ['--task_index', '1']),
                                 environ={}).task_index == 1
  argv = ['--job_name', 'worker', '--task_index', '0', '--ps_hosts', '',
          '--worker_hosts', 'b:2']
  assert 'give host:port of at least one task' in _refusal(
      dist_train.cluster_from, parse(argv), environ={})
  argv[5] = 'a:1'
  assert dist_train.cluster_from(parse(argv), environ={}).hosts['ps'] == [
      'a:1']
  # No --job_name: "use ps or worker".
  assert _group(r'^Unknown job name None: use (ps) or worker\.$', _refusal(
      dist_train.cluster_from, parse(hosts + ['--task_index', '0']),
      environ={})) == 'ps'
  assert dist_train.cluster_from(parse(hosts + ['--task_index', '0',
                                                '--job_name', 'ps']),
                                 environ={}).job_name == 'ps'
  # TF_CONFIG naming the first worker twice: "keep one of them".
  def config(*chief_jobs):
    jobs = dict({job: ['m:4'] for job in chief_jobs}, ps=['a:1'],
                worker=['b:2'])
    return {'TF_CONFIG': json.dumps({'cluster': jobs, 'task': {
        'type': 'worker', 'index': 0}})}
  assert 'keep one of them.' in _refusal(
      dist_train.cluster_from, parse([]), environ=config('chief', 'master'))
  for kept in ('chief', 'master'):
    cluster = dist_train.cluster_from(parse([]), environ=config(kept))
    assert cluster.hosts['worker'] == ['m:4', 'b:2']  # m:4 is worker 0.
  # TF_CONFIG set and one host flag given: "Give both flags, or neither to
  # take the cluster from TF_CONFIG". Before, '--worker_hosts is empty'.
  environ = config('chief')
  argv = ['--job_name', 'ps', '--task_index', '0', '--ps_hosts', 'a:1']
  assert _refusal(dist_train.cluster_from, parse(argv), environ=environ) == (
      '--ps_hosts is given but --worker_hosts is not, and TF_CONFIG is set: '
      'TF_CONFIG is read only when neither flag is given. Give both flags, '
      'or neither to take the cluster from TF_CONFIG.')
  both = dist_train.cluster_from(
      parse(argv + ['--worker_hosts', 'b:2']), environ=environ)
  assert (both.hosts, both.tf_config) == ({'ps': ['a:1'],
                                           'worker': ['b:2']}, False)
  neither = dist_train.cluster_from(parse([]), environ=environ)
  assert (neither.hosts, neither.tf_config) == ({'ps': ['a:1'], 'worker': [
      'm:4', 'b:2']}, True)
  # One address given to two tasks: "Give each task an address of its own,
  # and every task the same --ps_hosts and --worker_hosts".
  argv = ['--job_name', 'worker', '--task_index', '1', '--ps_hosts', 'a:1',
          '--worker_hosts', 'b:2,a:1']
  assert _refusal(dist_train.cluster_from, parse(argv), environ={}).endswith(
      'Give each task an address of its own, and every task the same '
      '--ps_hosts and --worker_hosts.')
  argv[-1] = 'b:2,c:3'
  for job_name, task_index in (('ps', '0'), ('worker', '0'), ('worker', '1')):
    argv[1], argv[3] = job_name, task_index
    assert dist_train.cluster_from(parse(argv), environ={}).hosts == {
        'ps': ['a:1'], 'worker': ['b:2', 'c:3']}


def test_a_ps_task_lost_while_a_worker_waited_for_its_chief_then_started_again(
    small_data, tmp_path, children):
  cluster = Cluster(children, small_data, tmp_path, '--max_steps', '4',
                    '--batch_size', '4')
  [ps_address] = cluster.common[1].split(',')
  ps = cluster.start('ps', 0)
  # The test's deadline is far longer than the time it takes to see the
  # worker connect and kill the ps task.
  worker = cluster.start('worker', 1, '--startup_timeout', '10')
  wait_until_connected(worker, ps_address)
  ps.process.kill()
  ps.process.wait()
  status, output = worker.finish()
  assert status == 1
  assert output.splitlines()[-1] == (
      'error: ps 0 (%s) stopped while this worker waited for the chief, and '
      'is still gone as --startup_timeout (10 s) runs out. Start it again '
      'with its same command, then this worker.' % ps_address)
  # As it says, once the chief it waited for has initialized the
  # variables (its first checkpoint), so that its short deadline is kept
  # however slowly TensorFlow starts.
  ps = cluster.start('ps', 0)
  chief = cluster.start('worker', 0)
  wait_for_checkpoint(str(tmp_path / 'worker0'), 0, chief)
  worker = cluster.start('worker', 1, '--startup_timeout', '10')
  for task in (chief, worker, ps):
    status, output = task.finish()
    assert status == 0, output[-3000:]
  assert latest_step(str(tmp_path / 'worker0')) >= 4


def test_a_task_whose_port_is_taken_then_freed_or_moved(small_data, tmp_path,
                                                         children):
  cluster = Cluster(children, small_data, tmp_path)
  ps_address = cluster.common[1]
  port = int(ps_address.rpartition(':')[2])
  with socket.create_server(('127.0.0.1', port)):  # Another process's.
    status, output = cluster.start('ps', 0).finish()
  assert status == 1
  assert output.splitlines()[-1] == (
      'error: Cannot start the server of ps 0 on %s (from --ps_hosts): '
      'another process already listens on port %d, perhaps a task of an '
      'earlier run still running. Stop that process, or give this task a '
      'free port in --ps_hosts, and every task the same --ps_hosts.'
      % (ps_address, port))
  # "Stop that process" (closed above): the task starts.
  ps = cluster.start('ps', 0)
  ps.wait_for(r'^ps 0: serving the variables')
  # "or give this task a free port in --ps_hosts", while the old one is
  # taken (by the task just started): a worker given the same list finds
  # this task, and waits for its chief.
  [free] = ports.free_ports(1)
  cluster.common[1] = '127.0.0.1:%d' % free
  moved = cluster.start('ps', 0)
  moved.wait_for(r'^ps 0: serving the variables')
  status, output = cluster.start('worker', 1, '--startup_timeout',
                                 '2').finish()
  assert status == 1
  assert 'The chief (worker 0) has not initialized the variables' in output
  for task in (ps, moved):
    task.process.send_signal(signal.SIGINT)
    status, output = task.finish()
    assert status == 130, output[-3000:]


def test_cluster_started_task_by_task_as_advised(small_data, tmp_path,
                                                 children):
  cluster = Cluster(children, small_data, tmp_path, '--max_steps', '4',
                    '--batch_size', '4')
  quick = ('--startup_timeout', '2')
  status, output = cluster.start('worker', 0, '--mixed_precision',
                                 'bf16').finish()
  assert status == 1 and 'leave it off for cifar10.dist_train' in output
  status, output = cluster.start('worker', 1, *quick).finish()
  assert status == 1, output
  address, flag = re.search(
      r'Cannot reach (\S+) \(ps 0\) within --startup_timeout 2 s .*Start '
      r'that task, or correct its address in (\S+)\.$', output,
      re.MULTILINE).groups()
  assert (flag, address) == tuple(cluster.common[:2])  # The ps task.
  ps = cluster.start('ps', 0)  # "Start that task".
  # A typo in the ps's address: "correct its address in --ps_hosts".
  [typo] = ports.free_ports(1)
  status, output = cluster.start('worker', 1, *quick, flag,
                                 '127.0.0.1:%d' % typo).finish()
  assert status == 1
  assert 'Cannot reach 127.0.0.1:%d (ps 0)' % typo in output
  assert 'correct its address in --ps_hosts.' in output
  status, output = cluster.start('worker', 1, *quick).finish()  # Corrected.
  assert status == 1
  assert 'The chief (worker 0) has not initialized the variables within ' \
      '--startup_timeout 2 s. Start it, or raise --startup_timeout.' in output
  # "raise --startup_timeout" (back to the test's long one), and "Start it":
  # the chief's command of before, with --mixed_precision left off.
  worker = cluster.start('worker', 1)
  chief = cluster.start('worker', 0)
  for task in (chief, worker, ps):
    status, output = task.finish()
    assert status == 0, output[-3000:]
  assert latest_step(str(tmp_path / 'worker0')) >= 4
  # An evaluator task in TF_CONFIG is refused: "evaluate beside the cluster
  # with python -m cifar10.eval --checkpoint_dir DIR, DIR being the chief's
  # --train_dir" (here once the cluster is done; test_dist_train.py runs
  # eval beside a training cluster).
  config = json.dumps({'cluster': {'ps': ['a:1'], 'worker': ['b:2']},
                       'task': {'type': 'evaluator', 'index': 0}})
  command = _group(r'evaluate beside the cluster with (python -m cifar10\.eval '
                   r'--checkpoint_dir DIR), DIR being the chief\'s '
                   r'--train_dir\.$', _refusal(
                       dist_train.cluster_from, dist_train.parser().parse_args(
                           []), environ={'TF_CONFIG': config}))
  flag, chief_dir = shlex.split(command.replace(
      'DIR', str(tmp_path / 'worker0')))[3:]
  assert flag == '--checkpoint_dir'
  assert _eval(small_data, chief_dir, tmp_path / 'eval') == 0


# ---------------------------------------------------------------------------
# eval, export, predict: checkpoints
# ---------------------------------------------------------------------------

def _three_class_data(data_dir):
  """A --data_dir of 3 classes, 10 records in each batch file."""
  folder = os.path.join(data_dir, BIN)
  os.makedirs(folder)
  for name in batch_files.TRAIN_FILES + batch_files.TEST_FILES:
    with open(os.path.join(folder, name), 'wb') as out:
      out.write(b''.join(crafted_record(index % 3, 80 * (index % 3), 50, 20)
                         for index in range(10)))
  with open(os.path.join(folder, classes.META_FILE), 'w') as out:
    out.write('red\ngreen\nblue\n')
  return data_dir


def test_other_classes_then_the_data_or_run_that_fits(small_data, small_run,
                                                      tmp_path):
  three = _three_class_data(str(tmp_path / 'three'))
  # The run recorded its data's folder: named, it is typed as given.
  given = _typed(r'Give the --data_dir it was trained on \(--data_dir WORD, '
                 r'as the run recorded it\), or the --checkpoint_dir of a run '
                 r'trained on this data\.', _refusal(
                     _eval, three, small_run, tmp_path / 'eval'))
  assert given == small_data
  assert _eval(given, small_run, tmp_path / 'eval') == 0
  three_run = str(tmp_path / 'three_run')
  assert _train(three, three_run, 1) == 0
  assert _eval(three, three_run, tmp_path / 'eval3') == 0


def test_eval_of_a_checkpoint_then_its_folder_watches(small_data, small_run,
                                                      tmp_path, capsys,
                                                      children):
  run = _copy_run(small_run, tmp_path / 'run')
  checkpoint = tf.train.latest_checkpoint(run)
  assert _eval(small_data, checkpoint, tmp_path / 'eval') == 0
  folder = _typed(r'Give its folder, WORD, to evaluate each new one\.',
                  capsys.readouterr().err)
  evaluator = children('-m', 'cifar10.eval', '--data_dir', small_data,
                       '--checkpoint_dir', folder, '--eval_dir',
                       str(tmp_path / 'eval'), '--eval_interval_secs', '1',
                       '--num_examples', '20', '--batch_size', '20')
  evaluator.wait_for(r'model\.ckpt-2 \(global step 2\) on 20 test images: '
                     r'precision @ 1 = ')
  assert _train(small_data, run, 3) == 0  # A new checkpoint.
  evaluator.wait_for(r'model\.ckpt-3 \(global step 3\) on 20 test images: '
                     r'precision @ 1 = ')


def test_export_refused_then_the_folder_it_names(small_run, tmp_path):
  taken = tmp_path / 'model'
  taken.mkdir()
  message = _refusal(export.main, ['--checkpoint_dir', small_run,
                                   '--export_dir', str(taken)])
  named = _typed(r'Give a new folder, such as --export_dir WORD \(', message)
  assert export.main(['--checkpoint_dir', small_run, '--export_dir',
                      named]) == 0
  assert os.path.exists(os.path.join(named, 'saved_model.pb'))
  a_file = tmp_path / 'model.txt'
  a_file.write_text('mine')
  assert 'Give a new folder for the SavedModel' in _refusal(
      export.main, ['--checkpoint_dir', small_run, '--export_dir',
                    str(a_file)])
  assert export.main(['--checkpoint_dir', small_run, '--export_dir',
                      str(tmp_path / 'new')]) == 0
  assert a_file.read_text() == 'mine'
  # Before: "such as --export_dir 'my pics/1' (a new version ...)", of a
  # folder of pictures (the converter then read 1/ as a class) or of a
  # run's folder (--fresh there would then train beside the model).
  pictures = tmp_path / 'my pics'
  for name in ('red', 'blue'):
    _png(str(pictures / name / '0.png'))
  for taken, what in ((str(pictures), 'a folder of pictures (blue/, red/), '
                       'the input of cifar10.convert_images'),
                      (small_run, 'a training run\'s folder (it holds '
                       'checkpoints)')):
    named = _group(r'Give a new folder, such as --export_dir (.*) \(beside '
                   r'it, since it is %s\)\.$' % re.escape(what), _refusal(
                       export.main, ['--checkpoint_dir', small_run,
                                     '--export_dir', taken]))
    assert shlex.split(named) == [taken + '_model']
    assert export.main(['--checkpoint_dir', small_run, '--export_dir',
                        taken + '_model']) == 0
  assert sorted(os.listdir(str(pictures))) == ['blue', 'red']


def test_an_export_among_class_folders_then_moved_out_as_told(small_run,
                                                              tmp_path):
  # An --export_dir given inside the folder of one's pictures, as a new
  # folder there. Before: the converter skipped each of the model's files,
  # "not a PNG, JPEG, BMP or GIF image", then refused "Class model has no
  # usable training image ... Fix or replace its files", which no fix of
  # those files could follow.
  pictures = tmp_path / 'my pics'
  _class_folder(str(pictures), 6, names=('blue', 'red'))
  model = str(pictures / 'model')
  assert export.main(['--checkpoint_dir', small_run, '--export_dir',
                      model]) == 0
  out = str(tmp_path / 'data')
  message = _refusal(convert_images.main, [str(pictures), out])
  assert message.startswith(
      '%s is an exported model (it holds saved_model.pb), not a class folder '
      'of images. Move it away from the class folders (mv ' % model), message
  command = _group(r'\((mv .*)\), then convert again\.$', message)
  subprocess.run(command, shell=True, check=True)
  moved = str(tmp_path / 'my pics_model')
  images = np.zeros([1, 32, 32, 3], np.uint8)
  assert serve_exported(moved, images)['probabilities'].shape == (1, 10)
  _converts(pictures, out)
  assert classes.of_data(os.path.join(out, BIN)).names == ('blue', 'red')


def test_eval_without_the_runs_data_dir_then_as_recorded(
    small_data, small_run, tmp_path, capsys):
  # Before: the download's failure alone ("Could not download ... put
  # cifar-10-binary.tar.gz ... into --data_dir DIR"), though the run had
  # recorded the folder it trained on.
  nodata = str(tmp_path / 'nodata')
  argv = ['--checkpoint_dir', small_run, '--eval_dir', str(tmp_path / 'eval'),
          '--run_once', '--num_examples', '20', '--batch_size', '20']
  assert script.run(cifar10_eval.main, argv + [
      '--data_dir', nodata, '--data_url', str(tmp_path / 'offline.tar.gz')]) == 1
  error = capsys.readouterr().err
  given = _group(
      r'^notice: --data_dir %s holds no data, so CIFAR-10 is downloaded into '
      r'it; the run in %s was trained on the data of (.*), as it recorded: '
      r'give that flag to evaluate on its test images instead\.\nerror: '
      % (re.escape(nodata), re.escape(small_run)), error)
  assert shlex.split(given) == ['--data_dir', small_data]
  assert script.run(cifar10_eval.main, argv + shlex.split(given)) == 0
  assert 'precision @ 1 = ' in capsys.readouterr().out


def test_checkpoint_dir_a_file_then_point_at_a_run(small_data, small_run,
                                                   tmp_path):
  a_file = tmp_path / 'notes.txt'
  a_file.write_text('x')
  assert _refusal(_eval, small_data, str(a_file), tmp_path / 'eval').endswith(
      'Point --checkpoint_dir at the --train_dir of a training run.')
  assert _eval(small_data, small_run, tmp_path / 'eval') == 0


def test_checkpoint_dir_an_eval_dir_or_pictures_then_point_at_a_run(
    small_data, small_run, tmp_path, capsys):
  # Before: "No checkpoint file found ... Train first (python -m
  # cifar10.train --train_dir DIR)", which the trainer refuses for both.
  eval_dir = str(tmp_path / 'eval')
  assert _eval(small_data, small_run, eval_dir) == 0
  pictures = str(tmp_path / 'pictures')
  for name in ('red', 'blue'):
    _png(os.path.join(pictures, name, '0.png'))
  image = os.path.join(pictures, 'red', '0.png')
  readers = (
      lambda folder: _eval(small_data, folder, tmp_path / 'eval2'),
      lambda folder: predict.main([image, '--checkpoint_dir', folder]),
      lambda folder: export.main(['--checkpoint_dir', folder, '--export_dir',
                                  str(tmp_path / 'model')]))
  for folder, what in (
      (eval_dir, 'the --eval_dir of an evaluation (its event files hold the '
                 'precision of evaluated checkpoints)'),
      (pictures, 'a folder of pictures (blue/, red/), the input of '
                 'cifar10.convert_images')):
    before = _listing(tmp_path)
    for reader in readers:
      assert _refusal(reader, folder) == (
          '--checkpoint_dir %s is %s, not a training run\'s folder: it holds '
          'no checkpoints. Point --checkpoint_dir at the --train_dir of a '
          'training run.' % (folder, what))
    assert _listing(tmp_path) == before
  # "Point --checkpoint_dir at the --train_dir of a training run."
  for reader in readers:
    assert reader(small_run) == 0


def test_no_checkpoint_then_train_first_as_printed(small_data, tmp_path):
  # Before: "Train first (python -m cifar10.train --train_dir DIR)", without
  # the evaluator's --data_dir: run as printed, it downloaded CIFAR-10 into
  # /tmp/cifar10_data (offline: failed) instead of reading that data.
  empty = str(tmp_path / 'empty')
  os.makedirs(empty)
  message = _refusal(_eval, small_data, empty, tmp_path / 'eval')
  command = shlex.split(_group(r'Train first \((python -m [^)]*)\)', message))
  assert command == ['python', '-m', 'cifar10.train', '--train_dir', empty,
                     '--data_dir', small_data]
  # The command as printed, with a short run (as printed, it trains 100000
  # steps).
  assert train.main(command[3:] + ['--max_steps', '1', '--batch_size',
                                   '4']) == 0
  assert _eval(small_data, empty, tmp_path / 'eval') == 0
  # predict reads no data set: its advice says to add one's --data_dir.
  image = str(tmp_path / 'a.png')
  _png(image)
  other = str(tmp_path / 'other')
  os.makedirs(other)
  message = _refusal(predict.main, [image, '--checkpoint_dir', other])
  advice = _group(r'Train first \(([^)]*)\)', message)
  assert advice == (
      'python -m cifar10.train --train_dir %s, adding --data_dir with your '
      'data\'s folder unless that is /tmp/cifar10_data' % other)
  command = shlex.split(advice.split(',')[0]) + ['--data_dir', small_data]
  assert train.main(command[3:] + ['--max_steps', '1', '--batch_size',
                                   '4']) == 0
  assert predict.main([image, '--checkpoint_dir', other]) == 0


def test_exported_model_as_checkpoint_dir_then_its_run_or_served(
    small_data, small_run, tmp_path):
  model = str(tmp_path / 'model')
  assert export.main(['--checkpoint_dir', small_run, '--export_dir',
                      model]) == 0
  exported = sorted(os.listdir(model))
  image = str(tmp_path / 'a.png')
  _png(image)
  readers = [
      lambda folder: predict.main([image, '--checkpoint_dir', folder]),
      lambda folder: _eval(small_data, folder, tmp_path / 'eval'),
      lambda folder: export.main(['--checkpoint_dir', folder, '--export_dir',
                                  str(tmp_path / ('from_' +
                                                  os.path.basename(folder)))]),
  ]
  for reader in readers:
    assert _refusal(reader, model) == (
        '--checkpoint_dir %s is a model exported by cifar10.export (%s), '
        'which this script does not read: give --checkpoint_dir the '
        '--train_dir it was exported from. To classify images with it, load '
        'it as the section "Serve the model" of README.md shows.'
        % (model, os.path.join(model, 'saved_model.pb')))
    assert reader(small_run) == 0
  # Its saved_model.pb given: before, "is a file, not a folder of
  # checkpoints", as for any file.
  graph = os.path.join(model, 'saved_model.pb')
  assert _refusal(readers[0], graph) == (
      '--checkpoint_dir %s is the graph of a model exported by cifar10.export, '
      'which this script does not read: give --checkpoint_dir the '
      '--train_dir it was exported from. To classify images with it, load '
      'it as the section "Serve the model" of README.md shows.' % graph)
  assert sorted(os.listdir(model)) == exported  # Nothing written into it.
  # The folder of numbered versions that TensorFlow Serving reads.
  versions = tmp_path / 'versions'
  versions.mkdir()
  shutil.copytree(model, str(versions / '1'))
  assert _refusal(readers[0], str(versions)).startswith(
      '--checkpoint_dir %s holds models exported by cifar10.export (%s), '
      % (versions, versions / '1' / 'saved_model.pb'))
  assert re.search(r'^## Serve the model', documents.read('README.md'), re.M)
  images = np.zeros([1, 32, 32, 3], np.uint8)
  assert serve_exported(model, images)['probabilities'].shape == (1, 10)


def test_checkpoint_dir_above_two_runs_then_give_one(small_data, small_run,
                                                     tmp_path):
  runs = tmp_path / 'runs'
  _copy_run(small_run, runs / 'a')
  _copy_run(small_run, runs / 'my b')
  message = _refusal(_eval, small_data, str(runs), tmp_path / 'eval')
  listed = _group(r'of its subfolders do: give one of them \((.*)\)\.$',
                  message).split(', ')
  # Before: '/.../runs/my b' unquoted, which a shell split in two.
  assert [shlex.split(flag) for flag in listed] == [
      ['--checkpoint_dir', str(runs / 'a')],
      ['--checkpoint_dir', str(runs / 'my b')]]
  assert _eval(small_data, shlex.split(listed[1])[1], tmp_path / 'eval') == 0


def test_resume_in_the_other_dtype_then_as_advised(small_data, small_run,
                                                   tmp_path, capsys):
  run = _copy_run(small_run, tmp_path / 'run')
  status = script.run(train.main, ['--data_dir', small_data, '--train_dir',
                                   run, '--max_steps', '3', '--batch_size', '4',
                                   '--use_fp16'])
  assert status == 1
  assert 'It was trained without --use_fp16: leave --use_fp16 out to use ' \
      'it.' in capsys.readouterr().err
  assert _train(small_data, run, 3) == 0
  assert latest_step(run) == 3
  fp16_run = str(tmp_path / 'fp16')
  assert _train(small_data, fp16_run, 1, '--use_fp16') == 0
  assert 'add --use_fp16 to use it' in _refusal(_train, small_data, fp16_run,
                                                2)
  assert _train(small_data, fp16_run, 2, '--use_fp16') == 0
  assert latest_step(fp16_run) == 2


# ---------------------------------------------------------------------------
# Data files
# ---------------------------------------------------------------------------

def test_missing_batch_file_then_put_back_or_point(small_data, tmp_path):
  data_dir = str(tmp_path / 'data')
  shutil.copytree(small_data, data_dir)
  moved = str(tmp_path / 'data_batch_3.bin')
  shutil.move(os.path.join(data_dir, BIN, 'data_batch_3.bin'), moved)
  message = _refusal(batch_files.check_batch_file,
                     os.path.join(data_dir, BIN, 'data_batch_3.bin'))
  folder = _group(r'not found in (\S+)\. Put it back, or point --data_dir '
                  r'\(or the data_dir of a function called from Python\) at '
                  r'the folder that holds cifar-10-batches-bin/ with it\.',
                  message)
  # Point --data_dir at one that holds it: training gets past the check.
  assert _train(small_data, str(tmp_path / 'run'), 1) == 0
  shutil.move(moved, folder)  # "Put it back".
  assert _train(data_dir, str(tmp_path / 'run2'), 1) == 0


def test_input_call_on_a_folder_without_data_then_pointed_as_told(
    small_data, tmp_path):
  # From Python, with the wrong folder: nothing to put back, and no flag.
  message = _refusal(cifar10_input.distorted_dataset, str(tmp_path), 4)
  assert _group(r'Point --data_dir, or the data_dir of a function called '
                r'from Python, at the folder that holds (\S+)/\.$',
                message) == BIN
  # "The folder that holds cifar-10-batches-bin/", given to the function
  # refused and to cifar10's input function: both read the data.
  assert os.path.isdir(os.path.join(small_data, BIN))
  with tf.Graph().as_default():
    images, labels = cifar10_input.distorted_inputs(small_data, 4)
    model_images, _ = cifar10_model.distorted_inputs(small_data, 4)
    with tf.compat.v1.Session() as sess:
      batch, batch_labels, model_batch = sess.run(
          [images, labels, model_images])
  assert batch.shape == model_batch.shape == (4, 24, 24, 3)
  assert set(batch_labels) <= set(range(10))


def test_labels_beyond_the_classes_then_replace_file(small_data, tmp_path):
  data_dir = str(tmp_path / 'data')
  shutil.copytree(small_data, data_dir)
  path = os.path.join(data_dir, BIN, 'data_batch_2.bin')
  with open(path, 'r+b') as stream:
    stream.write(bytes([12]))
  named = _group(r'^(\S+): record 0 has label 12.*replace it\.$', _refusal(
      _train, data_dir, str(tmp_path / 'run'), 1))
  assert named == path
  shutil.copy(os.path.join(small_data, BIN, 'data_batch_2.bin'), named)
  assert _train(data_dir, str(tmp_path / 'run'), 1) == 0


def test_malformed_meta_file_then_one_name_per_line(tmp_path):
  meta = tmp_path / classes.META_FILE
  meta.write_text('cat\n\ndog\n')
  message = _refusal(classes.of_data, str(tmp_path))
  low, high = map(int, _group(r'Write one class name per line, in label '
                              r'order \((\d+ to \d+) names\)\.$',
                              message).split(' to '))
  meta.write_text('cat\ndog\n')  # One per line, 2 names.
  assert low <= 2 <= high
  assert classes.of_data(str(tmp_path)).names == ('cat', 'dog')


def test_other_class_names_then_fresh_or_another_dir(tmp_path):
  data_dir = _three_class_data(str(tmp_path / 'data'))
  run = str(tmp_path / 'run')
  assert _train(data_dir, run, 1) == 0
  with open(os.path.join(data_dir, BIN, classes.META_FILE), 'w') as out:
    out.write('red\ngreen\ncyan\n')  # The same count, another class.
  message = _refusal(_train, data_dir, run, 2)
  assert ('Training will not mix them: to train on this data from that '
          'run\'s weights, start a new run from them in a folder of its own '
          '(--train_dir %s_warm --warm_start_from %s), or run with --fresh to '
          'start over here' % (run, run)) in message
  assert _train(data_dir, str(tmp_path / 'another'), 1) == 0
  assert _train(data_dir, run, 1, '--fresh') == 0
  with open(os.path.join(run, classes.RUN_FILE)) as names:
    assert names.read().split() == ['red', 'green', 'cyan']


def test_another_class_count_then_warm_started_as_told(small_data, tmp_path):
  # A run on CIFAR-10's ten classes resumed on three. Before: "run with
  # --fresh to start over", which deletes the trained run, or "another
  # --train_dir", which starts from random weights.
  run = str(tmp_path / 'run')
  assert _train(small_data, run, 2) == 0
  before = _listing(tmp_path / 'run')
  data_dir = _three_class_data(str(tmp_path / 'data'))
  message = _refusal(_train, data_dir, run, 3)
  assert re.search(r'was trained on 10 classes, but there are 3 here '
                   r'\(batches\.meta\.txt in .*\)\. Training will not mix '
                   r'them: to train on this data', message), message
  advised = shlex.split(_group(r'in a folder of its own \(([^)]*)\)',
                               message))
  assert advised == ['--train_dir', run + '_warm', '--warm_start_from', run]
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(data_dir, advised[1], 1, *advised[2:]) == 0
  assert latest_step(advised[1]) == 1
  with open(os.path.join(advised[1], classes.RUN_FILE)) as names:
    assert names.read().split() == ['red', 'green', 'blue']
  assert _listing(tmp_path / 'run') == before  # Only read.


def test_other_names_of_the_same_count_then_the_data_or_run_that_fits(
    tmp_path):
  trained_on = _three_class_data(str(tmp_path / 'rgb'))
  run = str(tmp_path / 'run')
  assert _train(trained_on, run, 1) == 0
  other = str(tmp_path / 'xyz')
  shutil.copytree(trained_on, other)
  meta = os.path.join(other, BIN, classes.META_FILE)
  with open(meta, 'w') as out:
    out.write('x\ny\nz\n')
  checkpoint = tf.train.latest_checkpoint(run)
  assert _refusal(_eval, other, run, tmp_path / 'eval') == (
      'Checkpoint %s was trained on the classes red, green, blue (%s beside '
      'it), but the data has x, y, z (%s in %s): its results would carry '
      'the wrong names. Give the --data_dir it was trained on (--data_dir '
      '%s, as the run recorded it), or the --checkpoint_dir of a run '
      'trained on this data.'
      % (checkpoint, os.path.join(run, classes.RUN_FILE), classes.META_FILE,
         os.path.join(other, BIN), trained_on))
  assert _eval(trained_on, run, tmp_path / 'eval') == 0
  other_run = str(tmp_path / 'other_run')
  assert _train(other, other_run, 1) == 0
  assert _eval(other, other_run, tmp_path / 'other_run_eval') == 0
  # A run without the record (made before it existed) is not checked.
  os.remove(os.path.join(run, classes.RUN_FILE))
  assert _eval(other, run, tmp_path / 'eval') == 0


def _served(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  return served, _tarball(served / download.TARBALL_NAME)


def _gets_data(data_dir, url, md5):
  folder = download.maybe_download_and_extract(str(data_dir), url, md5,
                                               io.StringIO())
  assert sorted(download.present_files(folder, download.REQUIRED_FILES)) == \
      sorted(download.REQUIRED_FILES)


def test_missing_files_then_put_them_there(tmp_path):
  served, md5 = _served(tmp_path)
  data_dir = tmp_path / 'data'
  (data_dir / BIN).mkdir(parents=True)
  shutil.copy(str(served / download.TARBALL_NAME), str(tmp_path / 'copy.tgz'))
  subprocess.run(['tar', '-xzf', str(tmp_path / 'copy.tgz'), '-C',
                  str(tmp_path)], check=True)
  shutil.move(str(tmp_path / BIN / 'test_batch.bin'), str(data_dir / BIN))
  message = _refusal(download.maybe_download_and_extract, str(data_dir),
                     _unused_url(), md5, io.StringIO())
  folder = _group(r'^(\S+) lacks', message)
  missing = _group(r' lacks (.*), which this script reads', message)
  assert 'put them there' in message
  for name in missing.split(', '):
    shutil.copy(str(tmp_path / BIN / name), folder)
  _gets_data(data_dir, _unused_url(), md5)


def test_file_appearing_meanwhile_then_run_again(tmp_path):
  served, md5 = _served(tmp_path)
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  destination = data_dir / download.TARBALL_NAME
  partial = tmp_path / 'partial'
  partial.write_bytes(b'half of ours')
  # The other process's download lands first, whole.
  shutil.copy(str(served / download.TARBALL_NAME), str(destination))
  assert 'Let it finish, then run again.' in _refusal(
      download._publish, str(partial), str(destination), [])
  _gets_data(data_dir, _unused_url(), md5)  # Run again: nothing to fetch.


def test_download_with_wrong_md5_then_again_or_mirror(tmp_path):
  served, md5 = _served(tmp_path)
  good = (served / download.TARBALL_NAME).read_bytes()
  (served / download.TARBALL_NAME).write_bytes(good[:100])  # Cut short.
  mirror = tmp_path / 'mirror'
  mirror.mkdir()
  (mirror / download.TARBALL_NAME).write_bytes(good)
  with _serving(served) as url, _serving(mirror) as mirror_url:
    url += download.TARBALL_NAME
    message = _refusal(download.maybe_download_and_extract,
                       str(tmp_path / 'data'), url, md5, io.StringIO())
    assert 'Try again, or use another --data_url.' in message
    _gets_data(tmp_path / 'other', mirror_url + download.TARBALL_NAME, md5)
    (served / download.TARBALL_NAME).write_bytes(good)  # The fault passed.
    _gets_data(tmp_path / 'data', url, md5)  # "Try again".


def test_local_data_url_missing_or_damaged_then_the_path_of_a_whole_copy(
    tmp_path):
  served, md5 = _served(tmp_path)
  whole = str(served / download.TARBALL_NAME)
  damaged = tmp_path / 'damaged.tar.gz'
  damaged.write_bytes((served / download.TARBALL_NAME).read_bytes()[:100])
  for given, advice in ((str(tmp_path / 'nowhere.tar.gz'),
                         'Give the path of the cifar-10-binary.tar.gz tarball '
                         'on this machine.'),
                        (str(damaged), 'Give the path of a whole copy.')):
    message = _refusal(download.maybe_download_and_extract,
                       str(tmp_path / 'data'), given, md5, io.StringIO())
    assert message.startswith('Could not read --data_url %s ' % given
                              if 'nowhere' in given else
                              '--data_url %s has MD5 ' % given), message
    assert message.endswith(advice), message
  _gets_data(tmp_path / 'data', whole, md5)  # The path of a whole copy.


def test_local_data_url_a_folder_of_the_data_then_as_data_dir(tmp_path):
  # Before: "Could not read --data_url DIR (Is a directory). Give the path
  # of the cifar-10-binary.tar.gz tarball", of the extracted data's folder.
  served, md5 = _served(tmp_path)
  have = tmp_path / 'have'
  _gets_data(have, str(served / download.TARBALL_NAME), md5)
  for given, end in ((have, 'It holds the extracted cifar-10-batches-bin/: '
                             'give it as --data_dir instead, and leave '
                             '--data_url out.'),
                     (served, 'Give the path of the cifar-10-binary.tar.gz '
                              'tarball on this machine.')):
    assert _refusal(download.maybe_download_and_extract,
                    str(tmp_path / 'data'), str(given), md5,
                    io.StringIO()) == '--data_url %s is a folder. %s' % (
                        given, end)
  assert not (tmp_path / 'data').exists()
  _gets_data(have, _unused_url(), md5)  # As --data_dir, without --data_url.


def test_tarball_lacking_files_then_delete_and_again(tmp_path):
  # Reached only when a tarball's MD5 is the one expected: from the scripts,
  # never (they expect the real one's); callers of the function can.
  served, md5 = _served(tmp_path)
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  tarball = data_dir / download.TARBALL_NAME
  with tarfile.open(str(tarball), 'w:gz') as archive:
    archive.add(str(tmp_path / 'served'), arcname='other')
  bad_md5 = hashlib.md5(tarball.read_bytes()).hexdigest()
  message = _refusal(download.maybe_download_and_extract, str(data_dir),
                     _unused_url(), bad_md5, io.StringIO())
  path = _group(r'^(\S+) lacks .* Delete it and download it again\.$',
                message)
  os.remove(path)
  with _serving(served) as url:
    _gets_data(data_dir, url + download.TARBALL_NAME, md5)


def test_no_network_then_each_way_it_names(tmp_path):
  served, md5 = _served(tmp_path)
  url = _unused_url()
  message = _refusal(download.maybe_download_and_extract,
                     str(tmp_path / 'data'), url, md5, io.StringIO())
  name, extracted, data_dir = re.search(
      r'Without network access, put (\S+) \(or the extracted (\S+)/ folder\) '
      r'into --data_dir (\S+), or point --data_url at a mirror\.$',
      message).groups()
  # "put the tarball into --data_dir": no network needed.
  os.makedirs(data_dir)
  shutil.copy(str(served / name), data_dir)
  _gets_data(data_dir, url, md5)
  # "or the extracted folder".
  other = tmp_path / 'other'
  other.mkdir()
  shutil.copytree(os.path.join(data_dir, extracted), str(other / extracted))
  _gets_data(other, url, md5)
  # "or point --data_url at a mirror" (here, one on this machine).
  with _serving(served) as mirror:
    _gets_data(tmp_path / 'mirrored', mirror + name, md5)


# ---------------------------------------------------------------------------
# Flags and paths
# ---------------------------------------------------------------------------

def test_flag_refusals_then_the_spelling_they_name(capsys):
  parse = cifar10_eval.parser().parse_args
  spelling = _group(r'argument --run_once: write (\S+);', _flag_refusal(
      parse, ['--run_once', 'False'], capsys))
  assert parse([spelling]).run_once is False
  parse = train.parser().parse_args
  complaint = _flag_refusal(parse, ['--max_step', '20'], capsys)
  meant = _group(r'did you mean (\S+)\?', complaint)
  assert parse([meant, '20']).max_steps == 20
  command = _group(r'\((.*) lists the flags\)', complaint)
  listed = subprocess.run(shlex.split(command.replace('python', sys.executable,
                                                      1)),
                          capture_output=True, text=True, cwd=REPO,
                          timeout=DEADLINE_SECS)
  assert listed.returncode == 0 and '--max_steps' in listed.stdout
  # Another tool's name: the flag named sets what was meant, and only it.
  meant = _group(r'did you mean (\S+)\?', _flag_refusal(
      parse, ['--learning_rate', '0.05'], capsys))
  followed = parse([meant, '0.05'])
  assert followed.initial_learning_rate == 0.05
  assert followed.learning_rate_decay_factor == \
      flags.LEARNING_RATE_DECAY_FACTOR
  parse = predict.parser().parse_args
  meant = _group(r'did you mean (\S+)\?', _flag_refusal(
      parse, ['--train_dir', 'runs/a', 'cat.png'], capsys))
  assert parse([meant, 'runs/a', 'cat.png']).checkpoint_dir == 'runs/a'


def _picture(path, colour=(200, 30, 30)):
  Image.new('RGB', (32, 32), colour).save(str(path))


def _shell(command, cwd):
  """Runs `command` through bash, as a user types it, in `cwd`."""
  return subprocess.run(
      ['bash', '-c', command.replace('python', shlex.quote(sys.executable),
                                     1)],
      capture_output=True, text=True, cwd=str(cwd), timeout=DEADLINE_SECS,
      # A file name that is not UTF-8 is printed as its bytes.
      errors='surrogateescape',
      env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))


def test_predict_a_folder_or_a_quoted_pattern_then_what_the_shell_expands(
    trained_dir, tmp_path):
  # Before: "my imgs/red: a folder, not a regular file", and a quoted
  # pattern "cannot read it (No such file or directory)", nothing more.
  # Beside the pictures, a file and a folder that are not pictures: the
  # advice was "my imgs/red/*", which gave them too, each an error and the
  # run's status 1.
  folder = tmp_path / 'my imgs' / 'red'
  (folder / 'more').mkdir(parents=True)
  for name in ('a.png', 'b.png', 'c.JPG'):
    _picture(folder / name)
  (folder / 'notes.txt').write_text('where the pictures came from\n')
  command = 'python -m cifar10.predict --checkpoint_dir %s ' % shlex.quote(
      trained_dir)
  done = _shell(command + "'my imgs/red'", tmp_path)
  assert done.returncode == 1
  given = _group(r'my imgs/red: a folder, not a regular file; give the '
                 r'pictures in it: (.*) \(the shell expands an unquoted \* '
                 r'into their names\)\n', done.stderr)
  assert given == "'my imgs/red'/*.JPG 'my imgs/red'/*.png"
  done = _shell(command + given, tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert ['my imgs/red/c.JPG', 'my imgs/red/a.png', 'my imgs/red/b.png'] == [
      line.partition(':')[0] for line in done.stdout.splitlines()[1:]]
  # A quoted pattern.
  done = _shell(command + "'my imgs/red/*.png'", tmp_path)
  assert done.returncode == 1
  given = _group(r'error: my imgs/red/\*\.png: cannot read it \(No such '
                 r'file or directory\); give it as (.*), its wildcards '
                 r'unquoted, for the files it matches: the shell expands a '
                 r'pattern, predict does not\n$', done.stderr)
  # Before: "give it without quotes", which the space then split.
  assert given == "'my imgs/red/'*.png"
  done = _shell(command + given, tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert len(done.stdout.splitlines()) == 3
  # A pattern that matches nothing is not told to go unquoted: unquoted, it
  # would reach predict as it is.
  done = _shell(command + "'my imgs/red/*.jpg'", tmp_path)
  assert done.stderr.endswith(
      'error: my imgs/red/*.jpg: cannot read it (No such file or directory); '
      'no file matches that pattern either\n')
  # A folder of class folders: its pictures are one level down.
  done = _shell(command + "'my imgs'", tmp_path)
  given = _group(r'my imgs: a folder, not a regular file; give the '
                 r'pictures in it: (.*) \(the shell expands', done.stderr)
  assert given == "'my imgs'/*/*.JPG 'my imgs'/*/*.png"
  done = _shell(command + given, tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert len(done.stdout.splitlines()) == 4
  # A folder whose name is not UTF-8, as the shell completes it. Before: a
  # pattern in single quotes, where the \xe9 shown stays four characters,
  # so that it matched no file (found by a new user's trial).
  latin = tmp_path / os.fsdecode(b'r\xe9d')
  latin.mkdir()
  _picture(latin / 'a.png')
  done = _shell(command + "$'r\\xe9d'", tmp_path)
  given = _group(r'give the pictures in it: (.*) \(the shell expands',
                 done.stderr)
  assert given == "$'r\\xe9d'/*.png"
  done = _shell(command + given, tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert len(done.stdout.splitlines()) == 2
  # A folder of other files only has no pattern to give.
  words = tmp_path / 'words'
  words.mkdir()
  (words / 'notes.txt').write_text('no pictures here\n')
  assert predict._next_step(str(words)) == (
      '; it holds no file named as a PNG, JPEG, BMP or GIF image (.apng, '
      '.bmp, .gif, .jfif, .jpe, .jpeg, .jpg, .png)')


def test_predict_a_folder_of_split_class_folders_then_the_pattern_named(
    trained_dir, tmp_path, capsys):
  # Before: "my_images: a folder, not a regular file; it holds no files",
  # of a folder of train/ and test/ class folders of pictures.
  for split, name in [('train', 'a.png'), ('train', 'b.png'),
                      ('test', 'c.png')]:
    (tmp_path / 'my_images' / split / 'cat').mkdir(parents=True,
                                                   exist_ok=True)
    _picture(tmp_path / 'my_images' / split / 'cat' / name)
  folder = str(tmp_path / 'my_images')
  assert predict.main(['--checkpoint_dir', trained_dir, folder]) == 1
  captured = capsys.readouterr()
  assert captured.out == ''  # No "Classified by" over nothing classified.
  given = _group(r'my_images: a folder, not a regular file; it holds folders '
                 r'of pictures: give the pictures in it: (.*) \(the '
                 r'shell expands an unquoted \* into their names\)\n',
                 captured.err)
  assert given == folder + '/*/*/*.png'
  # As given, through the shell that expands it.
  done = _shell('python -m cifar10.predict --checkpoint_dir %s %s' % (
      shlex.quote(trained_dir), given), tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert [line.partition(':')[0] for line in done.stdout.splitlines()[1:]] == [
      os.path.join(folder, 'test', 'cat', 'c.png'),
      os.path.join(folder, 'train', 'cat', 'a.png'),
      os.path.join(folder, 'train', 'cat', 'b.png')]


def test_a_file_named_like_a_flag_then_dot_slash_or_after_dashes(
    trained_dir, tmp_path, monkeypatch, capsys):
  # Before: "the following arguments are required: IMAGE".
  monkeypatch.chdir(tmp_path)
  _picture(tmp_path / '-red.png')
  parse = predict.parser().parse_args
  for argv in (['-red.png'], ['a.png', '-red.png']):
    complaint = _flag_refusal(parse, argv, capsys)
    assert ('. -red.png is read as a flag: give a file of that name as '
            './-red.png (or after --, which ends the flags: every argument '
            'after it is a file, so give the flags before it) (') in complaint
  as_told = _typed(r'give a file of that name as WORD ', complaint)
  assert predict.main(['--checkpoint_dir', trained_dir, as_told]) == 0
  assert capsys.readouterr().out.splitlines()[1].startswith('./-red.png: ')
  # "or after --, which ends the flags ... give the flags before it".
  # Before, without its last words: "-- -red.png --checkpoint_dir RUN"
  # read the flag as a file, and looked for the default run.
  assert predict.main(['--checkpoint_dir', trained_dir, '--',
                       '-red.png']) == 0
  assert capsys.readouterr().out.splitlines()[1].startswith('-red.png: ')
  assert ('error: --checkpoint_dir comes after --, which ends the flags, so '
          'it is read as a file, and there is none of that name. Give the '
          'flags before --') in _flag_refusal(
              parse, ['--', '-red.png', '--checkpoint_dir', trained_dir],
              capsys)


def test_standard_input_then_a_file(trained_dir, tmp_path, monkeypatch,
                                    capsys):
  # Before: "-: cannot read it (No such file or directory)", as if a file
  # named "-" were missing.
  monkeypatch.chdir(tmp_path)
  assert predict.main(['--checkpoint_dir', trained_dir, '-']) == 1
  assert capsys.readouterr().err == (
      'error: -: cannot read it (No such file or directory); predict reads '
      'files, not its standard input: save the picture in a file, and give '
      'that file\'s name\n')
  _picture(tmp_path / 'saved.png')
  assert predict.main(['--checkpoint_dir', trained_dir, 'saved.png']) == 0


def test_path_flags_refused_then_the_paths_they_name(tmp_path, capsys):
  a_file = tmp_path / 'events.txt'
  a_file.write_text('x')
  such_as = _typed(r'Give a folder for the event files, such as WORD\.',
                   _flag_refusal(cifar10_eval.parser().parse_args,
                                 ['--eval_dir', str(a_file)], capsys))
  assert paths.check_eval_dir(such_as) == such_as
  # --data_dir a file.
  assert 'Give the folder that holds %s/ or %s (or an empty folder to '\
      'download into)' % (BIN, download.TARBALL_NAME) in _refusal(
          paths.resolve_data_dir, str(a_file))
  # Where nothing downloads (distortion_picture.py, input functions called
  # from Python), no folder to download into is offered.
  assert _refusal(paths.resolve_data_dir, str(a_file), downloads=False) == (
      '--data_dir %s is a file. Give the folder that holds %s/ or %s.'
      % (a_file, BIN, download.TARBALL_NAME))
  empty = str(tmp_path / 'empty')
  os.makedirs(empty)
  assert paths.resolve_data_dir(empty) == empty
  # Loose batch files.
  loose = tmp_path / 'loose'
  loose.mkdir()
  for name in download.REQUIRED_FILES:
    (loose / name).write_bytes(b'')
  into = _group(r'move them into (\S+)\.$', _refusal(paths.resolve_data_dir,
                                                     str(loose)))
  os.makedirs(into)
  for name in download.REQUIRED_FILES:
    shutil.move(str(loose / name), into)
  assert paths.resolve_data_dir(str(loose)) == str(loose)
  assert capsys.readouterr().err == ''
  # Two data sets below.
  for name in ('a', 'b'):
    shutil.copytree(str(loose), str(tmp_path / 'two' / name))
  listed = _group(r'give one of them \((.*)\)\.$', _refusal(
      paths.resolve_data_dir, str(tmp_path / 'two'))).split(', ')
  assert paths.resolve_data_dir(listed[0]) == listed[0]


@pytest.mark.parametrize('layout', ['split', 'classes'])
def test_data_dir_of_pictures_then_converted_as_told(layout, tmp_path, capsys):
  # The folder of one's own pictures, given where the converted data goes.
  pictures = tmp_path / 'pictures'
  write_image_folder(str(pictures), {'cat': (200, 60, 60), 'dog': (60, 60, 200)},
                     np.random.default_rng(5), train_per_class=6,
                     test_per_class=2, size=40)
  if layout == 'classes':
    for name in ('cat', 'dog'):
      shutil.move(str(pictures / 'test' / name / '0.png'),
                  str(pictures / 'train' / name / 'held_out.png'))
      shutil.move(str(pictures / 'train' / name), str(pictures / name))
    shutil.rmtree(str(pictures / 'train'))
    shutil.rmtree(str(pictures / 'test'))
  # A folder of the user's under the first name offered: the converter
  # refuses an OUT that exists, so the next free name is offered.
  (tmp_path / 'pictures_data').mkdir()
  message = _refusal(paths.resolve_data_dir, str(pictures))
  shown = 'test/, train/' if layout == 'split' else 'cat/, dog/'
  assert message.startswith('--data_dir %s holds folders of pictures (%s), '
                            % (pictures, shown)), message
  command = _group(r'convert them first \((python -m [^)]*)\)', message)
  given = _typed(r'then give --data_dir WORD\. ', message)
  assert given == str(tmp_path / 'pictures_data_2')
  # One class folder of them: before, "not a data set's folder ... Give
  # --data_dir a new folder of its own", which downloaded CIFAR-10.
  inner = pictures / 'cat' if layout == 'classes' else pictures / 'train' / 'cat'
  inner_message = _refusal(paths.resolve_data_dir, str(inner))
  assert inner_message.startswith(
      '--data_dir %s is a class folder of pictures in %s, but the scripts '
      'read data in CIFAR-10\'s format' % (inner, pictures)), inner_message
  assert _group(r'convert them first \((python -m [^)]*)\)',
                inner_message) == command
  assert _typed(r'then give --data_dir WORD\. ', inner_message) == given
  words = shlex.split(command)
  assert words[:3] == ['python', '-m', 'cifar10.convert_images']
  assert convert_images.main(words[3:]) == 0
  assert paths.resolve_data_dir(given) == given
  assert batch_files.data_classes(given).names == ('cat', 'dog')
  # "To download CIFAR-10 instead, give a new folder."
  new = str(tmp_path / 'new')
  assert paths.resolve_data_dir(new) == new
  capsys.readouterr()


def _distinct_pictures(folder, rgb, count):
  """`count` 32x32 PNGs of colour `rgb` in `folder`, each its own (copies of
  one picture share a split in the converter's draw)."""
  os.makedirs(folder)
  noise = np.random.default_rng(sum(rgb))
  for index in range(count):
    pixels = np.clip(np.array(rgb) + noise.integers(-40, 40, (32, 32, 3)),
                     0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(folder, '%d.png' % index))


def test_data_dir_of_loose_pictures_then_sorted_and_converted_as_told(
    tmp_path, capsys):
  # Pictures lying in the folder, in no class folder. Before, "not a data
  # set's folder ... Give --data_dir a new folder of its own", which
  # downloaded CIFAR-10: nothing said how to train on the pictures.
  pictures = tmp_path / 'my pictures'
  colours = {'red': (200, 60, 60), 'blue': (60, 60, 200)}
  for colour, rgb in colours.items():
    _distinct_pictures(str(tmp_path / colour), rgb, 5)
    for picture in os.listdir(str(tmp_path / colour)):
      os.renames(str(tmp_path / colour / picture),
                 str(pictures / ('%s_%s' % (colour, picture))))
  message = _refusal(paths.resolve_data_dir, str(pictures), downloads=True)
  assert message.startswith(
      "--data_dir %s holds pictures (blue_0.png, blue_1.png, blue_2.png, ...) "
      "in no class folder, but the scripts read data in CIFAR-10's "
      "format: move them into a folder per class inside it" % pictures), \
      message
  assert message.endswith('To download CIFAR-10 instead, give a new folder.')
  # Followed as written: a folder per class, named as the example names
  # them, then the command and the flag.
  class_folders = [shlex.split(word)[0] for word in re.search(
      r'named for the class \(such as (%s) and (%s)\)' % (_WORD, _WORD),
      message).group(1, 3)]
  assert class_folders == [str(pictures / 'cats'), str(pictures / 'dogs')]
  for folder, colour in zip(class_folders, colours):
    os.mkdir(folder)
    for picture in pictures.glob(colour + '_*.png'):
      shutil.move(str(picture), folder)
  command = _group(r'then convert them \((python -m [^)]*)\)', message)
  given = _typed(r'then give --data_dir WORD\. ', message)
  words = shlex.split(command)
  assert words[:3] == ['python', '-m', 'cifar10.convert_images']
  assert convert_images.main(words[3:]) == 0
  assert paths.resolve_data_dir(given) == given
  assert batch_files.data_classes(given).names == ('cats', 'dogs')
  capsys.readouterr()


def test_a_folder_with_one_folder_of_pictures_among_others_is_a_data_dir(
    tmp_path):
  # A folder that merely holds some pictures beside its other files (a
  # home folder's Pictures/) stays a folder to download into.
  (tmp_path / 'holiday').mkdir()
  (tmp_path / 'holiday' / 'beach.jpg').write_bytes(b'')
  (tmp_path / 'notes.txt').write_text('x')
  assert paths.resolve_data_dir(str(tmp_path)) == str(tmp_path)
  # Nor is a folder holding only a run's folder with a plot saved in it.
  work = tmp_path / 'work'
  (work / 'run').mkdir(parents=True)
  (work / 'run' / 'events.out.tfevents.1.host').write_bytes(b'')
  (work / 'run' / 'confusion.png').write_bytes(b'')
  assert paths.resolve_data_dir(str(work)) == str(work)


def test_data_dir_of_one_class_folder_then_another_added_and_converted(
    tmp_path, capsys):
  # One folder of pictures and nothing else. Before, a folder to download
  # into: CIFAR-10 would have landed beside the class folder, and the
  # converter would later have read cifar-10-batches-bin/ as a class.
  pictures = tmp_path / 'pictures'
  _distinct_pictures(str(pictures / 'red'), (200, 60, 60), 5)
  message = _refusal(paths.resolve_data_dir, str(pictures))
  assert message.startswith(
      "--data_dir %s holds one folder of pictures (red/) and nothing else, "
      "but the scripts read data in CIFAR-10's format: add a folder of "
      "pictures for each other class beside red/, named for the class (a "
      "classifier needs 2 classes at least), then convert them (python -m "
      "cifar10.convert_images " % pictures), message
  assert message.endswith('To download CIFAR-10 instead, give a new folder.')
  assert os.listdir(str(pictures)) == ['red']
  # Followed as written: a second class beside it, then the command.
  _distinct_pictures(str(pictures / 'blue'), (60, 60, 200), 5)
  words = shlex.split(_group(r'then convert them \((python -m [^)]*)\)',
                             message))
  assert words[:3] == ['python', '-m', 'cifar10.convert_images']
  assert convert_images.main(words[3:]) == 0
  given = _typed(r'then give --data_dir WORD\. ', message)
  assert paths.resolve_data_dir(given) == given
  assert batch_files.data_classes(given).names == ('blue', 'red')
  capsys.readouterr()


def test_train_dir_one_level_off_then_the_run_resumes(small_data, small_run,
                                                      tmp_path, capsys):
  runs = tmp_path / 'runs'
  run = _copy_run(small_run, runs / 'run')
  prefix = tf.train.latest_checkpoint(run)
  parse = train.parser().parse_args
  folder = _typed(r'give its folder, --train_dir WORD, to resume that run',
                  _flag_refusal(parse, ['--train_dir', prefix], capsys))
  assert _train(small_data, folder, 3) == 0
  assert 'Resuming from %s (global step 2)' % prefix in capsys.readouterr().out
  above = _flag_refusal(parse, ['--train_dir', str(runs)], capsys)
  named = _typed(r'give --train_dir WORD to resume that run, or a new folder '
                 r'to start another', above)
  assert named == run
  assert _train(small_data, named, 4) == 0
  assert 'Resuming from %s' % os.path.join(run, 'model.ckpt-3') in \
      capsys.readouterr().out
  assert _train(small_data, str(tmp_path / 'another'), 1) == 0
  # Named like a checkpoint: the same name without .ckpt makes a new run.
  missing = os.path.join(run, 'model.ckpt-150')
  assert 'or a folder name without .ckpt for a new one' in _flag_refusal(
      parse, ['--train_dir', missing], capsys)
  new = missing.replace('.ckpt', '')
  assert _train(small_data, new, 1) == 0
  assert latest_step(new) == 1


def test_advice_on_paths_with_a_space_and_an_umlaut_pasted_into_a_shell(
    small_data, small_run, tmp_path, monkeypatch, capsys):
  # Before: "such as --export_dir export ü_2 (a new folder beside it)",
  # which a shell splits in two ("error: unrecognized arguments: ü_2"); the
  # same for the --eval_dir and --train_dir offered, and the convert
  # command. Each piece of advice is pasted into bash as printed.
  monkeypatch.chdir(tmp_path)
  run = os.path.join('runs', 'run ü 1')
  _copy_run(small_run, tmp_path / run)
  data = shlex.quote(small_data)
  # cifar10.export run twice: the folder holds a SavedModel already.
  os.mkdir('export ü')
  open(os.path.join('export ü', paths.SAVED_MODEL_FILE), 'wb').close()
  advised = _group(r'such as (--export_dir .*) \(a new folder beside it\)\.$',
                   _refusal(export.main, ['--checkpoint_dir', run,
                                          '--export_dir', 'export ü']))
  done = _shell('python -m cifar10.export --checkpoint_dir %s %s' % (
      shlex.quote(run), advised), tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert os.path.isfile(os.path.join('export ü_2', paths.SAVED_MODEL_FILE))
  # cifar10.eval given the run's own folder as --eval_dir: RUN_eval.
  advised = _group(r'Give --eval_dir a folder of its own, such as (.*)\.$',
                   _refusal(_eval, small_data, run, run))
  done = _shell('python -m cifar10.eval --data_dir %s --checkpoint_dir %s '
                '--eval_dir %s --run_once --num_examples 20 --batch_size 20'
                % (data, shlex.quote(run), advised), tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert eval_report.evaluated_steps(str(tmp_path / (run + '_eval'))) == {2}
  # cifar10.train given a checkpoint as --train_dir: its folder resumes.
  complaint = _flag_refusal(train.parser().parse_args, [
      '--train_dir', os.path.join(run, 'model.ckpt-2')], capsys)
  advised = _group(r'give its folder, (--train_dir .*), to resume that run',
                   complaint)
  done = _shell('python -m cifar10.train --data_dir %s %s --max_steps 3 '
                '--batch_size 4' % (data, advised), tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  assert 'Resuming from %s (global step 2)' % os.path.join(
      run, 'model.ckpt-2') in done.stdout
  assert latest_step(run) == 3
  # One's own pictures as --data_dir: the convert command, then --data_dir.
  pictures = 'my pictures ü'
  write_image_folder(pictures, {'cat': (200, 60, 60), 'dog': (60, 60, 200)},
                     np.random.default_rng(5), train_per_class=4,
                     test_per_class=2, size=32)
  command, given = re.search(
      r'convert them first \((python -m .*)\), then give (--data_dir .*)\. '
      r'To download', _refusal(paths.resolve_data_dir, pictures)).groups()
  done = _shell(command, tmp_path)
  assert done.returncode == 0, done.stderr[-2000:]
  flag, converted = shlex.split(given)
  assert (flag, converted) == ('--data_dir', pictures + '_data')
  assert paths.resolve_data_dir(converted) == converted
  assert batch_files.data_classes(converted).names == ('cat', 'dog')


def test_module_run_as_a_file_then_the_command_it_names(tmp_path):
  as_files = [([os.path.join(REPO, 'cifar10', module + '.py')], str(tmp_path))
              for module in ('train', 'cifar10')]
  # And a module that is no script, run as one with -m from the right place.
  with_m = [(['-m', 'cifar10.support.flags'], REPO)]
  for arguments, cwd in as_files + with_m:
    done = subprocess.run([sys.executable] + arguments, capture_output=True,
                          text=True, cwd=cwd, timeout=DEADLINE_SECS)
    assert done.returncode == 1
    command = _group(r'(python -m cifar10\.\w+)', done.stderr + done.stdout)
    # Run from the folder that holds cifar10/, with --help: as printed, the
    # command starts a 100000-step run that downloads the data set.
    listed = subprocess.run(
        shlex.split(command.replace('python', sys.executable, 1)) + ['--help'],
        capture_output=True, text=True, cwd=REPO, timeout=DEADLINE_SECS)
    assert listed.returncode == 0
    assert listed.stdout.startswith('usage: %s' % command)


def test_two_precisions_then_one_of_them():
  parse = train.parser().parse_args
  both = ['--mixed_precision', 'bf16', '--use_fp16']
  assert 'give one of them' in _refusal(
      session_options.SessionOptions.from_flags, parse(both))
  for one in (both[:2], both[2:]):
    session_options.SessionOptions.from_flags(parse(one))


def test_threads_too_late_then_a_fresh_process(small_data, tmp_path):
  tf.constant(1) + 1  # TensorFlow has started in this process.
  wanted = tf.config.threading.get_intra_op_parallelism_threads() + 1
  assert 'Give it on the command line of a fresh process.' in _refusal(
      session_options.SessionOptions(intra_op_threads=wanted).apply_to_process)
  done = subprocess.run(
      [sys.executable, '-m', 'cifar10.train', '--data_dir', small_data,
       '--train_dir', str(tmp_path / 'run'), '--max_steps', '1',
       '--batch_size', '4', '--intra_op_threads', str(wanted)],
      capture_output=True, text=True, timeout=DEADLINE_SECS)
  assert done.returncode == 0, done.stderr[-3000:]
  assert latest_step(str(tmp_path / 'run')) == 1


# ---------------------------------------------------------------------------
# Training runs
# ---------------------------------------------------------------------------

def test_more_gpus_than_found_then_as_advised(small_data, tmp_path):
  found = len(tf.config.list_physical_devices('GPU'))
  message = _refusal(tower_devices.find_or_make, found + 2, False)
  if found:
    lowered = _group(r'Lower --num_gpus to (\d+)', message)
    assert tower_devices.find_or_make(int(lowered), False)
  else:
    assert 'Lower --num_gpus' not in message  # It cannot go below 1.
  assert 'add --virtual_devices' in message.lower()
  # A fresh process: this one's devices are set once TensorFlow has started.
  done = subprocess.run(
      [sys.executable, '-m', 'cifar10.multi_gpu_train', '--data_dir',
       small_data, '--train_dir', str(tmp_path), '--num_gpus', str(found + 2),
       '--virtual_devices', '--max_steps', '1', '--batch_size', '4'],
      capture_output=True, text=True, timeout=DEADLINE_SECS)
  assert done.returncode == 0, done.stderr[-3000:]
  assert latest_step(str(tmp_path)) == 1


def test_unusable_checkpoint_then_fresh_or_another_dir(small_data, small_run,
                                                       tmp_path):
  run = _copy_run(small_run, tmp_path / 'run')
  # Every checkpoint damaged: with a whole one before the newest, the advice
  # is to resume from that (the test below).
  for data in glob.glob(os.path.join(run, '*.data-00000-of-00001')):
    with open(data, 'r+b') as stream:
      stream.truncate(100)
  message = _refusal(_train, small_data, run, 3)
  assert 'Training will not write over it: run with --fresh to start over' \
      in message and 'or choose another --train_dir' in message
  assert _train(small_data, str(tmp_path / 'another'), 1) == 0
  assert _train(small_data, run, 1, '--fresh') == 0
  assert latest_step(run) == 1


@pytest.fixture(scope='module')
def run_of_four_checkpoints(small_data, tmp_path_factory):
  """A --train_dir after 6 steps, with checkpoints at steps 0, 2, 4 and 6."""
  train_dir = str(tmp_path_factory.mktemp('advice_checkpoints') / 'run')
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, train_dir, 6, '--save_checkpoint_steps',
                  '2') == 0
  return train_dir


def _cut_newest(run, size):
  """Truncates the data file of the newest checkpoint in `run` to `size`
  bytes (a negative size: that many fewer), as a full disk or an
  interrupted copy leaves it; returns the checkpoint."""
  newest = tf.train.latest_checkpoint(run)
  data = newest + '.data-00000-of-00001'
  with open(data, 'r+b') as stream:
    stream.truncate(size if size > 0 else os.path.getsize(data) + size)
  return newest


def test_damaged_newest_then_readers_use_the_older_one_as_advised(
    small_data, run_of_four_checkpoints, tmp_path, capsys):
  # Before: "Checkpoint RUN/model.ckpt-6 cannot be read (...): it is damaged
  # or incomplete. Point --checkpoint_dir at the --train_dir of a training
  # run.", which it was: the advice led back to the damaged checkpoint.
  run = _copy_run(run_of_four_checkpoints, tmp_path / 'run')
  damaged = _cut_newest(run, 1000)
  image = str(tmp_path / 'red.png')
  _png(image, 200)
  older = os.path.join(run, 'model.ckpt-4')
  readers = {
      'predict': lambda folder: predict.main([image, '--checkpoint_dir',
                                              folder]),
      'export': lambda folder: export.main([
          '--checkpoint_dir', folder, '--export_dir',
          str(tmp_path / 'model' / os.path.basename(folder))]),
      'eval': lambda folder: _eval(small_data, folder, tmp_path / 'eval'),
  }
  for name, read in readers.items():
    message = _refusal(read, run)
    assert message.startswith('Checkpoint %s cannot be read (' % damaged), name
    assert ('it is damaged or incomplete. The newest checkpoint before it '
            'that is whole is %s (%s holds model.ckpt-0, model.ckpt-2, '
            'model.ckpt-4, model.ckpt-6): ' % (older, run)) in message, name
    # "give --checkpoint_dir RUN/model.ckpt-4 to use it instead."
    named = _typed(r'give --checkpoint_dir WORD to use it instead\.$',
                   message)
    assert named == older
    capsys.readouterr()
    assert read(named) == 0, name
    assert re.search(r'%s \((global step 4|moving averages)' % re.escape(
        older), capsys.readouterr().out), name
  assert os.path.exists(tmp_path / 'model' / 'model.ckpt-4' /
                        'saved_model.pb')
  # A warm start is pointed the same way.
  message = _refusal(_train, small_data, str(tmp_path / 'new'), 1,
                     '--warm_start_from', run)
  named = _typed(r'give --warm_start_from WORD to use it instead\.$',
                 message)
  assert named == older
  with contextlib.redirect_stdout(io.StringIO()) as started:
    assert _train(small_data, str(tmp_path / 'new'), 1, '--warm_start_from',
                  named) == 0
  assert 'Warm start from %s: restored' % older in started.getvalue()


def test_damaged_past_its_step_then_predict_uses_the_older_one(
    small_data, run_of_four_checkpoints, tmp_path):
  # Cut near its end, the checkpoint's step still reads: the damage is met
  # reading the weights, which says the same.
  run = _copy_run(run_of_four_checkpoints, tmp_path / 'run')
  damaged = _cut_newest(run, -100)
  image = str(tmp_path / 'red.png')
  _png(image, 200)
  message = _refusal(predict.main, [image, '--checkpoint_dir', run])
  assert message.startswith('Checkpoint %s is damaged: reading ' % damaged)
  named = _typed(r'give --checkpoint_dir WORD to use it instead\.$',
                 message)
  assert named == os.path.join(run, 'model.ckpt-4')
  assert predict.main([image, '--checkpoint_dir', named]) == 0


def test_damaged_newest_then_set_aside_and_the_run_resumes_from_the_older(
    small_data, run_of_four_checkpoints, tmp_path, capsys):
  # Before: "... Training will not write over it: run with --fresh to start
  # over", which would have deleted the whole checkpoints with it.
  run = _copy_run(run_of_four_checkpoints, tmp_path / 'run')
  damaged = _cut_newest(run, 1000)
  # The user's own folder under the name the advice would offer first.
  os.makedirs(tmp_path / 'run_damaged')
  (tmp_path / 'run_damaged' / 'notes.txt').write_text('mine')
  before = _listing(tmp_path)
  message = _refusal(_train, small_data, run, 8, '--save_checkpoint_steps',
                     '2')
  assert _listing(tmp_path) == before
  assert message.startswith('Checkpoint %s cannot be read (' % damaged)
  assert ('The newest checkpoint before it that is whole is %s/model.ckpt-4 '
          '(%s holds model.ckpt-0, model.ckpt-2, model.ckpt-4, model.ckpt-6): '
          'to resume from it, move the files of model.ckpt-6' % (run, run)
          in message)
  assert message.endswith(
      'Or run with --fresh to start over (that removes all the earlier '
      'run\'s checkpoints, model.ckpt-4 among them, and its event files), '
      'or choose another --train_dir.')
  # "move the files of model.ckpt-6 (model.ckpt-6.*) out of the run into a
  # new folder, such as ASIDE (COMMAND), and run the same command again."
  command = _group(r'into a new folder, such as \S+ \((.*)\), and run the '
                   r'same command again\.', message)
  aside = str(tmp_path / 'run_damaged_2')
  assert command == 'mkdir -p %s && mv %s.* %s/' % (aside, damaged, aside)
  subprocess.run(command, shell=True, check=True)
  capsys.readouterr()
  assert _train(small_data, run, 8, '--save_checkpoint_steps', '2') == 0
  out = capsys.readouterr().out
  assert 'Resuming from %s/model.ckpt-4 (global step 4).' % run in out
  assert latest_step(run) == 8
  # Nothing lost: the damaged checkpoint's files are in the new folder as
  # they were, the user's folder is untouched, and the run holds all it
  # held but those (model.ckpt-6 and model.ckpt-8 are the resumed run's).
  after = _listing(tmp_path)
  moved = {os.path.join('run_damaged_2', name[len('run/'):]): data
           for name, data in before.items()
           if name.startswith('run/model.ckpt-6.')}
  assert len(moved) == 3 and all(after[name] == data
                                 for name, data in moved.items())
  assert after['run_damaged/notes.txt'] == b'mine'
  assert {name for name in before if name.startswith('run/')} <= set(after)
  assert sorted(tf.train.get_checkpoint_state(run).all_model_checkpoint_paths
                ) == sorted(os.path.join(run, 'model.ckpt-%d' % step)
                            for step in (0, 2, 4, 6, 8))


def test_two_damaged_newest_then_both_set_aside_and_the_run_resumes(
    small_data, run_of_four_checkpoints, tmp_path, capsys):
  # Before: the advice moved the newest alone, and the trainer then stopped
  # at the next damaged one with the same advice.
  run = _copy_run(run_of_four_checkpoints, tmp_path / 'run')
  for step in (4, 6):
    with open('%s/model.ckpt-%d.data-00000-of-00001' % (run, step),
              'r+b') as stream:
      stream.truncate(1000)
  message = _refusal(_train, small_data, run, 8, '--save_checkpoint_steps',
                     '2')
  aside = str(tmp_path / 'run_damaged')
  assert ('The newest checkpoint before it that is whole is %s/model.ckpt-2 '
          '(%s holds model.ckpt-0, model.ckpt-2, model.ckpt-4, model.ckpt-6): '
          'to resume from it, move the files of model.ckpt-4 and model.ckpt-6 '
          '(model.ckpt-4.*, model.ckpt-6.*) out of the run into a new folder, '
          'such as %s (mkdir -p %s && mv %s/model.ckpt-4.* %s/model.ckpt-6.* '
          '%s/), and run the same command again.' % (
              run, run, aside, aside, run, run, aside)) in message
  command = _group(r'into a new folder, such as \S+ \((.*)\), and run the '
                   r'same command again\.', message)
  subprocess.run(command, shell=True, check=True)
  capsys.readouterr()
  assert _train(small_data, run, 8, '--save_checkpoint_steps', '2') == 0
  assert ('Resuming from %s/model.ckpt-2 (global step 2).' % run
          in capsys.readouterr().out)
  assert latest_step(run) == 8
  assert sorted(os.listdir(aside)) == sorted(
      name for name in os.listdir(run_of_four_checkpoints)
      if re.match(r'model\.ckpt-[46]\.', name))


def test_run_once_with_all_checkpoints_then_one_of_them(
    small_data, run_of_four_checkpoints, tmp_path, capsys):
  # Before: --all_checkpoints was done, and --run_once dropped without a
  # word.
  eval_dir = str(tmp_path / 'eval')
  argv = ['--data_dir', small_data, '--checkpoint_dir',
          run_of_four_checkpoints, '--eval_dir', eval_dir, '--num_examples',
          '20', '--batch_size', '20']
  assert _flag_refusal(cifar10_eval.main,
                       argv + ['--run_once', '--all_checkpoints'], capsys) == (
      'python -m cifar10.eval: error: --run_once and --all_checkpoints both '
      'choose what to evaluate: --run_once the newest checkpoint, '
      '--all_checkpoints every checkpoint without a result in --eval_dir '
      'yet, oldest first. Give one of them. (python -m cifar10.eval --help '
      'lists the flags)\n')
  assert not os.path.exists(eval_dir)
  # "Give one of them": --run_once evaluates the newest...
  with contextlib.redirect_stdout(io.StringIO()):
    assert cifar10_eval.main(argv + ['--run_once']) == 0
  assert eval_report.evaluated_steps(eval_dir) == {6}
  # ... and --all_checkpoints the others.
  with contextlib.redirect_stdout(io.StringIO()):
    assert cifar10_eval.main(argv + ['--all_checkpoints']) == 0
  assert eval_report.evaluated_steps(eval_dir) == {0, 2, 4, 6}


def test_every_checkpoint_damaged_then_copied_again_or_another_run(
    small_data, run_of_four_checkpoints, tmp_path, capsys):
  # Before: "... No checkpoint before it is whole either (...). Point
  # --checkpoint_dir at the --train_dir of a training run. Or let that run
  # save a new checkpoint.": the folder given is a training run's, and
  # cifar10.train refuses to resume it, so neither led anywhere.
  run = _copy_run(run_of_four_checkpoints, tmp_path / 'run')
  for step in (0, 2, 4, 6):
    with open('%s/model.ckpt-%d.data-00000-of-00001' % (run, step),
              'r+b') as stream:
      stream.truncate(1000)
  advice = (
      ': it is damaged or incomplete. No checkpoint before it is whole either '
      '(%s holds model.ckpt-0, model.ckpt-2, model.ckpt-4, model.ckpt-6). '
      'Without a whole checkpoint, cifar10.train cannot resume the run: copy '
      'it again from where it was made, if it is a copy, or point '
      '--checkpoint_dir at another training run\'s --train_dir.' % run)
  eval_dir = str(tmp_path / 'eval')
  image = str(tmp_path / 'red.png')
  _png(image, 200)
  export_dir = str(tmp_path / 'model')
  readers = [
      functools.partial(_eval, small_data, run, eval_dir),
      functools.partial(predict.main, [image, '--checkpoint_dir', run]),
      functools.partial(export.main, ['--checkpoint_dir', run,
                                      '--export_dir', export_dir])]
  for reader in readers:
    assert _refusal(reader).endswith(advice)
  # The evaluator's --all_checkpoints, oldest first, advises the same for
  # each (a new user's trial found the older ones given the old advice).
  capsys.readouterr()
  _refusal(_eval, small_data, run, str(tmp_path / 'all_eval'),
           '--all_checkpoints')
  skipped = [line for line in capsys.readouterr().out.splitlines()
             if ': skipped: ' in line]
  assert len(skipped) == 4, skipped
  for line in skipped:
    assert line.endswith(
        'Without a whole checkpoint, cifar10.train cannot resume the run: '
        'copy it again from where it was made, if it is a copy, or point '
        '--checkpoint_dir at another training run\'s --train_dir.'), line
  # As it says, the trainer does not resume the run (it offers to start it
  # over, --fresh).
  assert 'Training will not write over it: run with --fresh' in _refusal(
      _train, small_data, run, 8)
  # "point --checkpoint_dir at another training run's --train_dir".
  assert _eval(small_data, run_of_four_checkpoints,
               str(tmp_path / 'other_eval')) == 0
  # "copy it again from where it was made".
  shutil.copytree(run_of_four_checkpoints, run, dirs_exist_ok=True)
  for reader in readers:
    assert reader() == 0


def test_users_files_in_train_dir_then_moved_or_another_dir(small_data,
                                                             tmp_path):
  folder = tmp_path / 'proj'
  folder.mkdir()
  mine = {'checkpoint': 'notes', 'class_names.txt': 'my cats\nmy dogs\n'}
  for name, text in mine.items():
    (folder / name).write_text(text)
  message = _refusal(_train, small_data, str(folder), 1, '--fresh')
  names = _group(r' holds (.*) but no ', message).split(', ')
  assert sorted(names) == sorted(mine)
  assert message.endswith('Move them out of %s, or give another --train_dir.'
                          % folder)
  assert _train(small_data, str(tmp_path / 'another'), 1) == 0
  moved = tmp_path / 'moved'
  moved.mkdir()
  for name in names:
    shutil.move(str(folder / name), str(moved / name))
  assert _train(small_data, str(folder), 1, '--fresh') == 0
  assert latest_step(str(folder)) == 1
  assert {name: (moved / name).read_text() for name in names} == mine


def test_train_dir_a_file_then_another_train_dir(small_data, tmp_path):
  a_file = tmp_path / 'run.txt'
  a_file.write_text('mine')
  assert 'Give another --train_dir' in _refusal(_train, small_data,
                                                str(a_file), 1)
  assert _train(small_data, str(tmp_path / 'run'), 1) == 0
  assert a_file.read_text() == 'mine'


def _listing(folder):
  """Every path under `folder`, relative to it, with its file's bytes."""
  return {os.path.relpath(os.path.join(parent, name), folder):
          open(os.path.join(parent, name), 'rb').read()
          for parent, _, names in os.walk(folder) for name in names}


def _with_full_paths(run):
  """Rewrites the index file of `run` with full paths, as TensorFlow's Saver
  writes it by default (the original tutorial's runs hold such paths)."""
  state = tf.train.get_checkpoint_state(run)
  tf.compat.v1.train.update_checkpoint_state(
      run, os.path.abspath(state.model_checkpoint_path),
      [os.path.abspath(path) for path in state.all_model_checkpoint_paths])
  with open(os.path.join(run, 'checkpoint')) as index:
    assert os.path.abspath(run) in index.read()


def test_a_copied_run_with_full_paths_goes_on_from_its_copies_only(
    small_data, run_of_four_checkpoints, tmp_path, capsys):
  # Before: its index named the original's checkpoints, so training in the
  # copy resumed from there, then deleted every one of them as it kept
  # only its newest; and a moved run's readers found none.
  original = _copy_run(run_of_four_checkpoints, tmp_path / 'original')
  _with_full_paths(original)
  copy = _copy_run(original, tmp_path / 'copy')
  for name in glob.glob(os.path.join(copy, 'model.ckpt-0.*')):
    os.remove(name)  # Copied in part: the oldest left behind.
  kept = _listing(original)
  capsys.readouterr()
  assert _train(small_data, copy, 9, '--keep_checkpoints', '1',
                '--save_checkpoint_steps', '1') == 0
  captured = capsys.readouterr()
  index = os.path.join(copy, 'checkpoint')
  assert captured.err == (
      'notice: %s named its checkpoints by their paths in %s (the run was '
      'copied or moved from there): it now names their copies in %s '
      '(model.ckpt-2, model.ckpt-4, model.ckpt-6), which this run goes on '
      'from, leaving %s as it is.\n'
      'notice: %s no longer lists %s/model.ckpt-0, which is not in %s: this '
      'run deletes only its own checkpoints.\n'
      % (index, original, copy, original, index, original, copy))
  assert 'Resuming from %s/model.ckpt-6 (global step 6)' % copy in (
      captured.out)
  assert _listing(original) == kept
  # The index lists the copy's own checkpoints, by their names alone.
  with open(index) as written:
    assert os.sep not in written.read()
  assert tf.train.latest_checkpoint(copy) == os.path.join(copy,
                                                          'model.ckpt-9')
  # Moved, the original is read from where it is now.
  moved = str(tmp_path / 'moved')
  shutil.move(original, moved)
  image = str(tmp_path / 'red.png')
  _png(image, 200)
  assert predict.main([image, '--checkpoint_dir', moved]) == 0
  assert capsys.readouterr().out.startswith(
      'Classified by %s/model.ckpt-6 (global step 6, ' % moved)


def test_a_run_naming_another_folders_checkpoint_then_that_run_or_a_copy(
    small_data, run_of_four_checkpoints, tmp_path, capsys):
  # Its index (and event file) copied without the checkpoint it names.
  original = _copy_run(run_of_four_checkpoints, tmp_path / 'original')
  _with_full_paths(original)
  elsewhere = str(tmp_path / 'elsewhere')
  os.mkdir(elsewhere)
  for name in os.listdir(original):
    if not name.startswith('model.'):
      shutil.copy(os.path.join(original, name), elsewhere)
  kept, before = _listing(original), _listing(elsewhere)
  message = _refusal(_train, small_data, elsewhere, 8)
  newest = os.path.join(original, 'model.ckpt-6')
  assert message == (
      '--train_dir %s: its index file (checkpoint) names %s, a checkpoint of '
      'another folder, and %s holds no copy of it: training would resume '
      'from it, then delete %s\'s checkpoints as it keeps only its newest. '
      'Give --train_dir %s to go on with that run, or copy its checkpoint '
      'files (%s.*) into %s.' % (elsewhere, newest, elsewhere, original,
                                 original, newest, elsewhere))
  assert (_listing(original), _listing(elsewhere)) == (kept, before)
  # "copy its checkpoint files (ORIGINAL/model.ckpt-6.*) into ELSEWHERE".
  files = re.search(r'copy its checkpoint files \((.+)\) into', message)
  assert _shell('cp %s %s' % (files.group(1), shlex.quote(elsewhere)),
                tmp_path).returncode == 0
  capsys.readouterr()
  assert _train(small_data, elsewhere, 8, '--keep_checkpoints', '1') == 0
  assert 'Resuming from %s/model.ckpt-6' % elsewhere in capsys.readouterr().out
  assert _listing(original) == kept
  # "Give --train_dir ORIGINAL to go on with that run".
  given = _typed(r'Give --train_dir WORD to go on', message)
  assert _train(small_data, given, 8) == 0
  assert latest_step(original) == 8


def test_train_dir_the_data_or_an_export_then_a_folder_of_its_own(
    small_data, small_run, tmp_path, capsys):
  # Before: training wrote its checkpoints in among the batch files, into
  # the SavedModel's folder, or among one's own pictures.
  data = str(tmp_path / 'data')
  shutil.copytree(small_data, data)
  exported = str(tmp_path / 'model')
  with contextlib.redirect_stdout(io.StringIO()):
    assert export.main(['--checkpoint_dir', small_run, '--export_dir',
                        exported]) == 0
  pictures = str(tmp_path / 'pictures')
  write_image_folder(pictures, {'blue': (0, 0, 200), 'red': (200, 0, 0)},
                     np.random.default_rng(0), train_per_class=1,
                     test_per_class=1, size=8)
  for train_dir, what in (
      (data, "a data set's folder"),
      (os.path.join(data, BIN), "a data set's folder"),
      (exported, 'an exported model (it holds saved_model.pb)'),
      (pictures, 'a folder of pictures (test/, train/), the input of '
                 'cifar10.convert_images'),
      (os.path.join(pictures, 'train'), 'a folder of pictures (blue/, red/), '
                                        'the input of cifar10.convert_images')):
    before = _listing(tmp_path)
    assert _refusal(_train, data, train_dir, 1) == (
        '--train_dir %s is %s, not a training run\'s folder: training would '
        'write its checkpoints in among those files. Give a --train_dir of '
        'its own, a new folder.' % (train_dir, what))
    assert _listing(tmp_path) == before
  # "Give a --train_dir of its own, a new folder."
  assert _train(data, str(tmp_path / 'run'), 1) == 0


def test_data_into_another_tools_folder_then_a_new_one(
    small_data, small_run, tmp_path, capsys):
  # Before: cifar10.synthetic, cifar10.convert_images' OUT and the download
  # wrote a data set in among a run's, an evaluation's, an exported model's
  # or one's own pictures' files; the run was then refused as "a data set's
  # folder", and the pictures trained on as CIFAR-10 without a word.
  run = _copy_run(small_run, tmp_path / 'run')
  evaluation = str(tmp_path / 'evaluation')
  exported = str(tmp_path / 'model')
  with contextlib.redirect_stdout(io.StringIO()):
    assert _eval(small_data, run, evaluation) == 0
    assert export.main(['--checkpoint_dir', run, '--export_dir',
                        exported]) == 0
  # An evaluation written before evaluators recorded the run: events only.
  old_evaluation = str(tmp_path / 'old_evaluation')
  shutil.copytree(evaluation, old_evaluation)
  os.remove(os.path.join(old_evaluation, paths.EVALUATED_RUN_FILE))
  pictures = str(tmp_path / 'pictures')
  _class_folder(pictures, 4, names=('a', 'b'))
  flat = str(tmp_path / 'flat')
  _png(os.path.join(flat, 'photo.png'))
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('c', 'd'))
  before = _listing(tmp_path)
  for folder, what in (
      (run, 'a training run\'s folder (it holds checkpoints)'),
      (evaluation, 'an evaluator\'s --eval_dir (it holds %s)'
       % paths.EVALUATED_RUN_FILE),
      (old_evaluation, 'a training run\'s or an evaluation\'s folder (it '
                       'holds TensorBoard event files)'),
      (exported, 'an exported model (it holds saved_model.pb)'),
      (pictures, 'a folder of pictures (a/, b/), the input of '
                 'cifar10.convert_images'),
      (flat, 'a folder of pictures (photo.png)')):
    offered = []
    for flag, write in (
        ('--data_dir', lambda folder: synthetic.main(['--data_dir', folder])),
        ('OUT', lambda folder: convert_images.main([src, folder])),
        ('--data_dir', paths.resolve_data_dir)):  # Before a download.
      if write is paths.resolve_data_dir and folder in (pictures, flat):
        continue  # Told to convert them (test_data_dir_of_pictures..., and
        # test_data_dir_of_loose_pictures...).
      message = _refusal(write, folder)
      offered.append(_typed(
          r'^%s %s is %s, not a data set\'s folder: the data set would be '
          r'written in among its files\. Give %s a new folder of its own, '
          r'such as WORD\.$' % (re.escape(flag), re.escape(folder),
                               re.escape(what), re.escape(flag)), message))
      assert _listing(tmp_path) == before, (folder, flag)
    # Synthetic data is offered a name of its own: in the converter's, a
    # --data_dir FOLDER_data would train on noise, and the conversion the
    # trainer advises for those pictures would be refused there.
    assert offered == [folder + '_synthetic'] + [folder + '_data'] * (
        len(offered) - 1)
    # As offered, each writer writes there; the next writer is offered
    # another free folder, so that nothing lands in the first's.
    assert synthetic.main(['--data_dir', offered[0]]) == 0
    message = _refusal(convert_images.main, [src, folder])
    assert message.endswith('such as %s_data.' % folder)
    _converts(src, folder + '_data')
    if folder not in (pictures, flat):
      message = _refusal(paths.resolve_data_dir, folder)
      assert message.endswith('such as %s_data_2.' % folder)
      # The download's folder: a new one, taken as it is (nothing to refuse).
      assert paths.resolve_data_dir(folder + '_data_2') == folder + '_data_2'
    before = _listing(tmp_path)
  # The run and the evaluation go on in their folders, as nothing was
  # written there.
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, run, 3) == 0
    assert _eval(small_data, run, evaluation) == 0
  capsys.readouterr()


def test_a_folder_of_picture_files_then_a_folder_of_its_own(
    small_data, small_run, tmp_path, capsys):
  # Before: a flat folder of pictures, or one class folder, was not
  # recognised: checkpoints and event files were written among them.
  flat = str(tmp_path / 'flat')
  _png(os.path.join(flat, 'a.png'))
  pictures = tmp_path / 'pictures'
  for name in ('red', 'blue'):
    _png(str(pictures / name / '0.png'))
  red = str(pictures / 'red')
  before = _listing(tmp_path)
  for folder, picture in ((flat, 'a.png'), (red, '0.png')):
    assert _refusal(_train, small_data, folder, 1) == (
        '--train_dir %s is a folder of pictures (%s), not a training run\'s '
        'folder: training would write its checkpoints in among those files. '
        'Give a --train_dir of its own, a new folder.' % (folder, picture))
  # The folder offered is named after the run evaluated: RUN_eval, or
  # RUN_eval_N where another test's evaluations took that.
  own = re.fullmatch(
      '--eval_dir %s is a folder of pictures \\(0.png\\): the evaluator\'s '
      'event files would land among those files. Give --eval_dir a folder of '
      'its own, such as (%s_eval(?:_\\d+)?)\\.' % (
          re.escape(red), re.escape(small_run)),
      _refusal(_eval, small_data, small_run, red)).group(1)
  assert _listing(tmp_path) == before
  # As advised; a picture saved into a run's folder does not make it one.
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, str(tmp_path / 'run'), 1) == 0
    assert _eval(small_data, small_run, own) == 0
    _png(str(tmp_path / 'run' / 'plot.png'))
    assert _train(small_data, str(tmp_path / 'run'), 2) == 0


def test_train_dir_an_eval_dir_then_a_folder_of_its_own(small_data, small_run,
                                                        tmp_path, capsys):
  # Before: its event files passed for a run's, so training went on in
  # there, and --fresh deleted the evaluations.
  eval_dir = str(tmp_path / 'eval')
  assert _eval(small_data, small_run, eval_dir) == 0
  before = _listing(tmp_path)
  for extra in ((), ('--fresh',)):
    assert _refusal(_train, small_data, eval_dir, 1, *extra) == (
        '--train_dir %s is the --eval_dir of an evaluation (its event files '
        'hold the precision of evaluated checkpoints), not a training run\'s '
        'folder: training would write among them, and --fresh would delete '
        'them. Give a --train_dir of its own, a new folder.' % eval_dir)
    assert _listing(tmp_path) == before
  # "Give a --train_dir of its own, a new folder."
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, str(tmp_path / 'run'), 1) == 0
  # A run's folder that an evaluation once wrote into as well is the run's.
  run = _copy_run(small_run, tmp_path / 'evaluated_in_place')
  for name in os.listdir(eval_dir):
    shutil.copy(os.path.join(eval_dir, name), run)
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, run, 3) == 0


def test_warm_start_from_the_run_fresh_clears_then_a_new_folder_or_a_copy(
    small_data, small_run, tmp_path, capsys):
  # Before: --fresh removed the run, the source with it, and then the
  # warm start found no checkpoint: the run was lost.
  run = _copy_run(small_run, tmp_path / 'run')
  checkpoint = tf.train.latest_checkpoint(run)
  # The user's own folders under the names the advice would offer first:
  # it names free ones, so that following it copies over nothing.
  for taken in ('run_new', 'run_start'):
    os.makedirs(tmp_path / taken)
    (tmp_path / taken / classes.RUN_FILE).write_text('mine\n')
  before = _listing(tmp_path)
  for source, says in ((checkpoint, 'is'), (run, 'reads %s,' % checkpoint)):
    message = _refusal(_train, small_data, run, 3, '--warm_start_from',
                       source, '--fresh')
    assert message.startswith(
        '--warm_start_from %s %s a checkpoint in --train_dir %s, which '
        '--fresh clears before training reads it' % (source, says, run))
    assert _listing(tmp_path) == before
  # "Train into a new folder instead (--train_dir RUN_new, without --fresh)"
  new = _typed(r'\(--train_dir WORD, without --fresh\)', message)
  assert new == str(tmp_path / 'run_new_2')
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, new, 3, '--warm_start_from', run) == 0
  assert latest_step(new) == 3
  # "or copy the checkpoint out first (COMMAND) and give --warm_start_from
  # COPY."
  command = _group(r'copy the checkpoint out first \((.*)\) and give', message)
  copy = _typed(r'and give --warm_start_from WORD\.$', message)
  assert os.path.dirname(copy) == str(tmp_path / 'run_start_2')
  subprocess.run(command, shell=True, check=True)
  with contextlib.redirect_stdout(io.StringIO()) as out:
    assert _train(small_data, run, 3, '--warm_start_from', copy,
                  '--fresh') == 0
  assert 'Warm start from %s: restored' % copy in out.getvalue()
  assert latest_step(run) == 3
  assert sorted(os.listdir(os.path.dirname(copy))) == sorted(
      name for name in os.listdir(small_run)
      if name.startswith(os.path.basename(checkpoint) + '.') or
      name == classes.RUN_FILE)
  for taken in ('run_new', 'run_start'):
    assert _listing(tmp_path / taken) == {classes.RUN_FILE: b'mine\n'}
  # A checkpoint of the user's own name, which --fresh keeps: its class
  # names are what would be lost (before: "the checkpoint would be deleted").
  for name in os.listdir(small_run):
    if name.startswith(os.path.basename(checkpoint) + '.'):
      shutil.copy(os.path.join(small_run, name), os.path.join(
          run, 'best' + name[len(os.path.basename(checkpoint)):]))
  best = os.path.join(run, 'best')
  assert ('--warm_start_from %s is a checkpoint in --train_dir %s, which '
          '--fresh clears before training reads it: it keeps the checkpoint, '
          'not the class names beside it (class_names.txt), which the new run '
          'writes its own over, so that the warm start would match the wrong '
          'classes. Train into a new folder instead' % (best, run)) in (
              _refusal(_train, small_data, run, 3, '--warm_start_from', best,
                       '--fresh'))
  # At a URL a shell's mkdir and cp do not reach: only the new folder is
  # offered. (Not followed here: TensorFlow's in-memory ram:// file system
  # takes a checkpoint's prefix for a folder, so a warm start cannot read
  # from it at all.)
  url = 'ram://%s/run' % tmp_path.name
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, url, 2) == 0
  message = _refusal(_train, small_data, url, 3, '--warm_start_from', url,
                     '--fresh')
  assert message.endswith('. Train into a new folder instead (--train_dir '
                          '%s_new, without --fresh).' % url)


def test_resumed_with_its_own_checkpoint_as_source_then_a_new_folder(
    small_data, small_run, tmp_path, capsys):
  # Before: the notice said "use --fresh to start over from RUN/...", and
  # --fresh with a source in --train_dir is refused (the test above).
  run = _copy_run(small_run, tmp_path / 'run')
  checkpoint = tf.train.latest_checkpoint(run)
  for steps, source in ((3, checkpoint), (4, run)):
    # It names the refusal that --fresh gets.
    refusal = _refusal(_train, small_data, run, steps, '--warm_start_from',
                       source, '--fresh')
    capsys.readouterr()
    assert _train(small_data, run, steps, '--warm_start_from', source) == 0
    notice = capsys.readouterr().err
    assert notice == (
        'notice: --warm_start_from %s ignored: this run resumes from its own '
        'checkpoint in --train_dir, and --fresh would not start over from '
        'it: %s\n' % (source, refusal))
  # "Train into a new folder instead (--train_dir RUN_new, without --fresh)"
  new = _typed(r'\(--train_dir WORD, without --fresh\)', notice)
  assert _train(small_data, new, 3, '--warm_start_from', checkpoint) == 0
  assert 'Warm start from %s: restored' % checkpoint in capsys.readouterr().out
  assert latest_step(new) == 3


def test_resumed_with_a_source_fresh_refuses_then_as_that_refusal_says(
    small_data, small_run, tmp_path, capsys):
  # Before: "notice: --warm_start_from MISSING ignored: this run resumes
  # ... (use --fresh to start over from MISSING).", and with --fresh added
  # as told: "error: --warm_start_from MISSING does not exist."
  run = _copy_run(small_run, tmp_path / 'run')
  missing = str(tmp_path / 'nonexist')
  capsys.readouterr()
  assert _train(small_data, run, 3, '--warm_start_from', missing) == 0
  refusal = ('--warm_start_from %s does not exist. Point it at the '
             '--train_dir of a training run, or at one of its checkpoints '
             '(such as RUN/model.ckpt-1000).' % missing)
  assert capsys.readouterr().err == (
      'notice: --warm_start_from %s ignored: this run resumes from its own '
      'checkpoint in --train_dir, and --fresh would not start over from it: '
      '%s\n' % (missing, refusal))
  # That is what --fresh gets, and it removes nothing.
  before = _listing(run)
  assert _refusal(_train, small_data, run, 4, '--warm_start_from', missing,
                  '--fresh') == refusal
  assert _listing(run) == before
  # "Point it at the --train_dir of a training run": a source --fresh takes,
  # which the notice offers, and --fresh starts over from it.
  assert _train(small_data, run, 4, '--warm_start_from', small_run) == 0
  assert capsys.readouterr().err == (
      'notice: --warm_start_from %s ignored: this run resumes from its own '
      'checkpoint in --train_dir (use --fresh to start over from %s).\n'
      % (small_run, small_run))
  assert _train(small_data, run, 1, '--warm_start_from', small_run,
                '--fresh') == 0
  assert 'Warm start from %s/model.ckpt-2: restored' % small_run in (
      capsys.readouterr().out)
  assert latest_step(run) == 1


def test_eval_dir_a_run_folder_then_one_of_its_own(small_data, small_run,
                                                   tmp_path, capsys):
  # Before: the evaluator wrote its event files into the run's folder, and
  # the trainer's --fresh there deleted them with the run's own.
  run = _copy_run(small_run, tmp_path / 'run')
  other = _copy_run(small_run, tmp_path / 'other')
  before = _listing(tmp_path)
  own = str(tmp_path / 'run_eval')
  assert _refusal(_eval, small_data, run, run) == (
      '--eval_dir %s is the folder of a training run (--checkpoint_dir %s): a '
      'later cifar10.train --fresh there would delete the evaluation\'s event '
      'files, and TensorBoard would mix the two in one run. Give --eval_dir a '
      'folder of its own, such as %s.' % (run, run, own))
  # Another run's folder is refused as well.
  assert _refusal(_eval, small_data, run, other).startswith(
      '--eval_dir %s is the folder of a training run: ' % other)
  assert _listing(tmp_path) == before
  # "Give --eval_dir a folder of its own, such as RUN_eval."
  assert _eval(small_data, run, own) == 0
  evaluated = _listing(tmp_path / 'run_eval')
  assert evaluated
  with contextlib.redirect_stdout(io.StringIO()):
    assert _train(small_data, run, 1, '--fresh') == 0
  assert _listing(tmp_path / 'run_eval') == evaluated


def test_eval_dir_the_data_then_one_of_its_own(small_data, small_run,
                                              tmp_path, capsys):
  # Before: the evaluator wrote its event files in among the batch files.
  data = str(tmp_path / 'data')
  shutil.copytree(small_data, data)
  batches = os.path.join(data, BIN)
  run = _copy_run(small_run, tmp_path / 'run')
  before = _listing(tmp_path)
  # Named after the run evaluated, not after the folder given.
  own = run + '_eval'
  for eval_dir, what in (
      (data, "a data set's folder"),
      (batches, "a data set's folder"),
      (os.path.join(batches, 'eval'),
       "in the data set's folder (--data_dir %s)" % data)):
    assert _refusal(_eval, data, run, eval_dir) == (
        '--eval_dir %s is %s: the evaluator\'s event files would land among '
        'those files. Give --eval_dir a folder of its own, such as %s.'
        % (eval_dir, what, own))
    assert _listing(tmp_path) == before
  # "Give --eval_dir a folder of its own, such as RUN_eval."
  assert _eval(data, run, own) == 0
  assert _listing(tmp_path / 'data') == _listing(small_data)
  assert os.listdir(own)


def _eval_dir_offered(message):
  return _typed(r'such as (?:--eval_dir )?WORD\.$', message)


def test_eval_dir_offered_is_free_and_named_after_the_run(
    small_data, small_run, tmp_path, capsys):
  # Before: the folder offered was the one given plus _eval, unchecked:
  # c2run_eval was itself a run (refused again, offering c2run_eval_eval),
  # data_eval held another run's evaluations, and --eval_dir sr_backup
  # offered sr_backup_eval for an evaluation of run1.
  run = _copy_run(small_run, tmp_path / 'c2run')
  _copy_run(small_run, tmp_path / 'c2run_eval')  # A run named so.
  message = _refusal(_eval, small_data, run, run)
  assert _eval_dir_offered(message) == run + '_eval_2'
  assert _eval(small_data, run, run + '_eval_2') == 0
  # RUN_eval_2 holds this run's evaluations now: offered again.
  assert _eval_dir_offered(_refusal(_eval, small_data, run, run)) == (
      run + '_eval_2')
  # A folder given by mistake does not name the folder offered.
  run1 = _copy_run(small_run, tmp_path / 'run1')
  backup = _copy_run(small_run, tmp_path / 'sr_backup')
  assert _eval_dir_offered(_refusal(_eval, small_data, run1, backup)) == (
      run1 + '_eval')
  # RUN_eval holding another run's evaluations is passed over.
  assert _eval(small_data, run, run1 + '_eval') == 0
  before = _listing(tmp_path / 'run1_eval')
  for eval_dir in (backup, small_data):
    message = _refusal(_eval, small_data, run1, eval_dir)
    assert _eval_dir_offered(message) == run1 + '_eval_2'
  assert _eval(small_data, run1, run1 + '_eval_2') == 0
  assert _listing(tmp_path / 'run1_eval') == before


def test_eval_dir_of_another_runs_evaluations_then_one_of_its_own(
    small_data, small_run, tmp_path, capsys):
  # Before: the second run's precision went in among the first's at the
  # same steps, and plot_run.py and TensorBoard drew either value.
  first = _copy_run(small_run, tmp_path / 'ev1run')
  second = _copy_run(small_run, tmp_path / 'c2run')
  ev1 = str(tmp_path / 'ev1')
  assert _eval(small_data, first, ev1) == 0
  assert paths.evaluated_run(ev1) == first
  copy = str(tmp_path / 'ev1copy')
  shutil.copytree(ev1, copy)
  before = _listing(tmp_path / 'ev1copy')
  message = _refusal(_eval, small_data, second, copy)
  assert message == (
      '--eval_dir %s holds the evaluations of another run, %s (its %s says '
      'so): the two runs\' figures at the same steps would mix in '
      'TensorBoard and scripts/plot_run.py. Evaluate --checkpoint_dir %s '
      'into a folder of its own, such as --eval_dir %s.' % (
          copy, first, paths.EVALUATED_RUN_FILE, second, second + '_eval'))
  assert _listing(tmp_path / 'ev1copy') == before
  # "Evaluate --checkpoint_dir c2run into ... --eval_dir c2run_eval."
  assert _eval(small_data, second, second + '_eval') == 0
  assert paths.evaluated_run(second + '_eval') == second
  # The first run's own evaluations go on in its folder.
  assert _eval(small_data, first, ev1, '--all_checkpoints') == 0
  # A folder of evaluations written before the record was kept is not
  # claimed for the run evaluated next: whose they are is unknown.
  old = str(tmp_path / 'old')
  shutil.copytree(ev1, old)
  os.remove(os.path.join(old, paths.EVALUATED_RUN_FILE))
  assert _eval(small_data, second, old) == 0
  assert paths.evaluated_run(old) is None


def test_eval_dir_of_a_moved_run_then_its_new_place_recorded(
    small_data, small_run, tmp_path, capsys):
  # Before: the record held the run's absolute path only, so a run and its
  # evaluations moved together (a parent folder renamed) were refused as
  # another run's, with no way to say that it was the same run.
  os.makedirs(tmp_path / 'exp')
  run = _copy_run(small_run, tmp_path / 'exp' / 'run')
  eval_dir = str(tmp_path / 'exp' / 'run_eval')
  assert _eval(small_data, run, eval_dir) == 0
  record = os.path.join(eval_dir, paths.EVALUATED_RUN_FILE)
  first = paths.first_event_file(run)
  assert open(record).read() == run + '\n../run\n' + first + '\n'
  # Both moved together: the same run, and the record follows it.
  os.rename(tmp_path / 'exp', tmp_path / 'moved')
  run, eval_dir = (str(tmp_path / 'moved' / name)
                   for name in ('run', 'run_eval'))
  assert _eval(small_data, run, eval_dir) == 0
  assert paths.evaluated_run(eval_dir) == run
  record = os.path.join(eval_dir, paths.EVALUATED_RUN_FILE)
  assert open(record).read() == run + '\n../run\n' + first + '\n'
  # The run renamed alone could be another run: refused, with a way to say
  # that it is the same one, since the recorded folder is gone.
  renamed = str(tmp_path / 'moved' / 'renamed')
  os.rename(run, renamed)
  before = _listing(eval_dir)
  message = _refusal(_eval, small_data, renamed, eval_dir)
  assert message.endswith(
      'such as --eval_dir %s_eval. If that run is this one, moved since, '
      'record its new place (echo %s > %s) and run this again.' % (
          renamed, renamed, os.path.join(eval_dir, paths.EVALUATED_RUN_FILE)))
  assert _listing(eval_dir) == before
  # "record its new place (echo RUN > EVAL/evaluated_run.txt) and run this
  # again."
  command = _group(r'record its new place \((.*)\) and run', message)
  subprocess.run(command, shell=True, check=True)
  assert _eval(small_data, renamed, eval_dir) == 0
  assert paths.evaluated_run(eval_dir) == renamed


def _after_the_second_of(event_file):
  """Waits until the clock has passed the second `event_file` was opened
  in (its name holds it): an event file opened now is named otherwise."""
  second = int(re.fullmatch(paths.EVENTS_FILE, event_file).group(1))
  while time.time() < second + 1:
    time.sleep(0.05)


def _started_over_message(eval_dir, run, first, offered):
  return (
      '--eval_dir %s holds the evaluations of an earlier run in '
      '--checkpoint_dir %s: that run began with the event file %s, which is '
      'gone, so the folder was started over since (cifar10.train --fresh), '
      'and the two runs\' figures at the same steps would mix in '
      'TensorBoard and scripts/plot_run.py. Evaluate --checkpoint_dir %s '
      'into a folder of its own, such as --eval_dir %s.' % (
          eval_dir, run, first, run, offered))


def test_eval_dir_of_a_run_started_over_then_one_of_its_own(
    small_data, tmp_path, capsys):
  # Before: after cifar10.train --fresh, the erased run's results in the
  # --eval_dir stood for the new run's: --all_checkpoints found "0 of the 2
  # checkpoints in RUN have no result in RUN_eval yet" and evaluated
  # nothing, and --run_once put the new run's precision beside the old
  # one's at the same step, in two event files.
  run, eval_dir = str(tmp_path / 'run'), str(tmp_path / 'run_eval')
  assert _train(small_data, run, 2) == 0
  first = paths.first_event_file(run)
  assert _eval(small_data, run, eval_dir, '--all_checkpoints') == 0
  assert eval_report.evaluated_steps(eval_dir) == {0, 2}
  record = os.path.join(eval_dir, paths.EVALUATED_RUN_FILE)
  assert open(record).read() == run + '\n../run\n' + first + '\n'
  # Resumed, it is the same run: it goes on in its folder.
  _after_the_second_of(first)
  assert _train(small_data, run, 3) == 0
  assert len(glob.glob(os.path.join(run, 'events.out.tfevents.*'))) == 2
  assert paths.first_event_file(run) == first
  assert _eval(small_data, run, eval_dir, '--all_checkpoints') == 0
  assert eval_report.evaluated_steps(eval_dir) == {0, 2, 3}
  # Started over, it is another run.
  newest = max(glob.glob(os.path.join(run, 'events.out.tfevents.*')))
  _after_the_second_of(os.path.basename(newest))
  assert _train(small_data, run, 2, '--fresh') == 0
  assert paths.first_event_file(run) != first
  before = _listing(eval_dir)
  capsys.readouterr()
  for extra in ((), ('--all_checkpoints',)):
    message = _refusal(_eval, small_data, run, eval_dir, *extra)
    assert message == _started_over_message(
        eval_dir, run, first, run + '_eval_2') + (
            ' If it was not started over, that file only deleted, drop the '
            'file from the record (echo %s > %s) and run this again.' % (
                run, record))
    assert _listing(eval_dir) == before
  assert 'have no result' not in capsys.readouterr().out
  # "Evaluate --checkpoint_dir RUN into ... --eval_dir RUN_eval_2."
  offered = _typed(r'such as --eval_dir WORD\. ', message)
  assert _eval(small_data, run, offered, '--all_checkpoints') == 0
  assert ('2 of the 2 checkpoints in %s have no result in %s yet.' % (
      run, offered)) in capsys.readouterr().out
  assert eval_report.evaluated_steps(offered) == {0, 2}
  assert paths.first_event_file(run) in open(
      os.path.join(offered, paths.EVALUATED_RUN_FILE)).read()
  assert _listing(eval_dir) == before
  # A record without the event file (an earlier version's, or one the
  # refusals' echo wrote) is not checked, but given the file the run
  # begins with now, so that the next --fresh is noticed.
  earlier = str(tmp_path / 'earlier_eval')
  shutil.copytree(eval_dir, earlier)
  with open(os.path.join(earlier, paths.EVALUATED_RUN_FILE), 'w') as lines:
    lines.write(run + '\n../run\n')
  assert _eval(small_data, run, earlier) == 0
  assert open(os.path.join(earlier, paths.EVALUATED_RUN_FILE)).read() == (
      run + '\n../run\n' + paths.first_event_file(run) + '\n')


def test_eval_dir_at_a_url_of_a_run_started_over_then_one_of_its_own(
    small_data, tmp_path, capsys):
  # At a URL the run's event files are read as in a local folder; the
  # record has no path between the two folders, and no echo is offered (a
  # shell cannot write to a URL).
  run, eval_dir = ('ram://%s/%s' % (tmp_path.name, name)
                   for name in ('run', 'run_eval'))
  assert _train(small_data, run, 2) == 0
  first = paths.first_event_file(run)
  assert _eval(small_data, run, eval_dir) == 0
  record = eval_dir + '/' + paths.EVALUATED_RUN_FILE
  assert storage.read_bytes(record) == (
      '%s\n\n%s\n' % (run, first)).encode()
  _after_the_second_of(first)
  assert _train(small_data, run, 2, '--fresh') == 0
  assert _refusal(_eval, small_data, run, eval_dir) == _started_over_message(
      eval_dir, run, first, run + '_eval_2')
  # "such as --eval_dir RUN_eval_2."
  capsys.readouterr()
  assert _eval(small_data, run, run + '_eval_2') == 0
  assert ('model.ckpt-2 (global step 2) on 20 test images: precision @ 1 = '
          in capsys.readouterr().out)


def test_eval_dir_of_a_run_whose_first_event_file_was_deleted_then_dropped(
    small_data, small_run, tmp_path):
  # A run's first event file deleted by hand looks like a run started over:
  # refused, with a way to say that it was not.
  run = _copy_run(small_run, tmp_path / 'run')
  eval_dir = str(tmp_path / 'run_eval')
  assert _eval(small_data, run, eval_dir) == 0
  first = paths.first_event_file(run)
  _after_the_second_of(first)
  assert _train(small_data, run, 3) == 0  # Resumed: a second event file.
  os.remove(os.path.join(run, first))
  before = _listing(eval_dir)
  message = _refusal(_eval, small_data, run, eval_dir)
  record = os.path.join(eval_dir, paths.EVALUATED_RUN_FILE)
  assert message.endswith(
      'such as --eval_dir %s_eval_2. If it was not started over, that file '
      'only deleted, drop the file from the record (echo %s > %s) and run '
      'this again.' % (run, run, record))
  assert _listing(eval_dir) == before
  # "drop the file from the record (echo RUN > EVAL/evaluated_run.txt) and
  # run this again."
  command = _group(r'drop the file from the record \((.*)\) and run', message)
  subprocess.run(command, shell=True, check=True)
  assert _eval(small_data, run, eval_dir) == 0
  assert eval_report.evaluated_steps(eval_dir) == {2, 3}
  # The record names the run's first event file now, so that a later
  # --fresh is refused still.
  assert open(record).read() == '%s\n../run\n%s\n' % (
      run, paths.first_event_file(run))
  _after_the_second_of(paths.first_event_file(run))
  assert _train(small_data, run, 1, '--fresh') == 0
  assert 'started over since' in _refusal(_eval, small_data, run, eval_dir)


def test_waiting_eval_then_the_run_started_over_beside_it(
    small_data, small_run, tmp_path, children):
  # Before: a waiting evaluator went on into the same event file with the
  # new run's checkpoints (or, where the new run's newest checkpoint had
  # the old one's name, waited for ever without a word).
  run = _copy_run(small_run, tmp_path / 'run')
  eval_dir = str(tmp_path / 'run_eval')
  evaluator = children('-m', 'cifar10.eval', '--data_dir', small_data,
                       '--checkpoint_dir', run, '--eval_dir', eval_dir,
                       '--eval_interval_secs', '1', '--num_examples', '20',
                       '--batch_size', '20')
  evaluator.wait_for(r'model\.ckpt-2 \(global step 2\) on 20 test images: '
                     r'precision @ 1 = ')
  first = paths.first_event_file(run)
  _after_the_second_of(first)
  assert _train(small_data, run, 2, '--fresh') == 0
  status, output = evaluator.finish()
  assert status == 1
  assert output.splitlines()[-1] == 'error: ' + _started_over_message(
      eval_dir, run, first, run + '_eval_2') + (
          ' If it was not started over, that file only deleted, drop the '
          'file from the record (echo %s > %s) and run this again.' % (
              run, os.path.join(eval_dir, paths.EVALUATED_RUN_FILE)))
  assert eval_report.evaluated_steps(eval_dir) == {2}
  assert _eval(small_data, run, run + '_eval_2') == 0


def test_a_path_below_a_file_then_one_that_does_not_go_through_it(
    small_data, small_run, tmp_path, capsys):
  # Before: a traceback from wherever the script first made its folder
  # (TensorFlow's FailedPreconditionError, or the converter's
  # NotADirectoryError).
  (tmp_path / 'afile').write_text('mine\n')
  below = str(tmp_path / 'afile' / 'sub')
  pictures = str(tmp_path / 'pictures')
  write_image_folder(pictures, {'cat': (200, 60, 60), 'dog': (60, 60, 200)},
                     np.random.default_rng(5), train_per_class=6,
                     test_per_class=2, size=40)
  commands = {
      'train': (train.main, ['--data_dir', small_data, '--train_dir', '%s',
                             '--max_steps', '1', '--batch_size', '4']),
      'eval': (cifar10_eval.main, ['--data_dir', small_data,
                                   '--checkpoint_dir', small_run,
                                   '--eval_dir', '%s', '--run_once',
                                   '--num_examples', '20']),
      'synthetic': (synthetic.main, ['--data_dir', '%s',
                                     '--train_records_per_file', '40',
                                     '--test_records', '20']),
      'export': (export.main, ['--checkpoint_dir', small_run, '--export_dir',
                               '%s']),
      'convert_images': (convert_images.main, [pictures, '%s']),
  }
  for name, (main, argv) in commands.items():
    capsys.readouterr()
    with contextlib.redirect_stdout(io.StringIO()):
      status = script.run(main, [below if arg == '%s' else arg
                                 for arg in argv])
    assert status == 1, name
    assert capsys.readouterr().err == (
        'error: %s is a file, not a folder, so nothing can be written below '
        'it. Give a path that does not go through it.\n'
        % (tmp_path / 'afile')), name
    assert (tmp_path / 'afile').read_text() == 'mine\n'
    # "Give a path that does not go through it."
    elsewhere = str(tmp_path / name / 'sub')
    with contextlib.redirect_stdout(io.StringIO()):
      assert script.run(main, [elsewhere if arg == '%s' else arg
                               for arg in argv]) == 0, name
  capsys.readouterr()


def test_nothing_to_do_then_raise_max_steps(small_data, small_run, tmp_path,
                                            capsys):
  run = _copy_run(small_run, tmp_path / 'run')
  assert _train(small_data, run, 2) == 0
  assert 'Raise --max_steps to train further.' in capsys.readouterr().out
  assert _train(small_data, run, 3) == 0
  assert latest_step(run) == 3


def test_fresh_beside_own_checkpoints_starts_over_and_keeps_them(
    small_data, small_run, tmp_path, capsys):
  # Before: --fresh removed the run, then the trainer read the user's copy
  # best.* (not in the index file) as the run's: "Resuming from RUN/best
  # (global step 2)" though it trained from step 0, or "Nothing to do: the
  # global step ... is already 2 ... Raise --max_steps", which left the
  # folder without an index file and was refused next time. A stray
  # my_backup.index made it "... cannot be read ... run with --fresh".
  run = _copy_run(small_run, tmp_path / 'run')
  for suffix in ('index', 'meta', 'data-00000-of-00001'):
    shutil.copy(os.path.join(run, 'model.ckpt-2.' + suffix),
                os.path.join(run, 'best.' + suffix))
  folder = tmp_path / 'run'
  mine = {path.name: path.read_bytes() for path in folder.glob('best.*')}
  assert _train(small_data, run, 1, '--fresh') == 0
  output = capsys.readouterr().out
  assert 'Resuming' not in output and 'Nothing to do' not in output
  assert ('--fresh: kept best, not named as the run\'s checkpoints '
          '(model.ckpt-*): the new run starts at step 0 and leaves it as it '
          'is.') in output
  assert latest_step(run) == 1
  assert tf.train.load_variable(os.path.join(run, 'model.ckpt-0'),
                                'global_step') == 0
  (folder / 'my_backup.index').write_bytes(b'not a checkpoint')
  mine['my_backup.index'] = b'not a checkpoint'
  assert _train(small_data, run, 3, '--fresh') == 0
  output = capsys.readouterr().out
  assert 'Resuming' not in output
  assert '--fresh: kept best, my_backup, not named' in output
  assert tf.train.load_variable(os.path.join(run, 'model.ckpt-0'),
                                'global_step') == 0
  assert latest_step(run) == 3
  # Without --fresh the run resumes from its own checkpoint, as before.
  assert _train(small_data, run, 4) == 0
  assert ('Resuming from %s (global step 3).' % os.path.join(
      run, 'model.ckpt-3')) in capsys.readouterr().out
  assert latest_step(run) == 4
  for name, contents in mine.items():
    assert (folder / name).read_bytes() == contents, name


def test_diverged_run_then_the_lower_rate_it_names(small_data, tmp_path,
                                                  capsys, caplog):
  # Before: TensorFlow's "ERROR:tensorflow:Model diverged with loss = NaN."
  # came first, and our line said no more than to look at the checkpoint:
  # the same command diverges again.
  run = str(tmp_path / 'run')
  command = ['--data_dir', small_data, '--train_dir', run, '--max_steps', '3',
             '--batch_size', '4', '--initial_learning_rate', '1e30']
  message = _refusal(train.main, command)
  assert re.fullmatch(
      r'Model diverged with loss = NaN at step \d+\. Training stopped '
      r'without saving the diverged weights; the last good checkpoint is '
      r'%s\. Lower the learning rate: run again with --initial_learning_rate '
      r'0\.1 instead of 1e\+30; without --fresh, training resumes from that '
      r'checkpoint\.' % re.escape(os.path.join(run, 'model.ckpt-0')), message)
  assert 'Model diverged' not in capsys.readouterr().err
  assert not [record for record in caplog.records
              if 'Model diverged' in record.getMessage()]
  # The same command, with the rate it names.
  command[-1] = _group(r'--initial_learning_rate (\S+) instead', message)
  assert train.main(command) == 0
  assert ('Resuming from %s (global step 0).' % os.path.join(
      run, 'model.ckpt-0')) in capsys.readouterr().out
  assert latest_step(run) == 3


def test_batch_over_the_records_then_the_size_it_names(small_data, tmp_path,
                                                      capsys):
  # Before: no word; a batch too large for memory was killed silently.
  assert _train(small_data, str(tmp_path / 'big'), 1, '--batch_size',
                '300') == 0
  err = capsys.readouterr().err
  assert ('notice: --batch_size 300 is larger than the 200 training images: '
          'each batch holds each image 1.5 times on average') in err
  size = _group(r'Give --batch_size (\d+) or less', err)
  assert _train(small_data, str(tmp_path / 'fits'), 1, '--batch_size',
                size) == 0
  assert '--batch_size' not in capsys.readouterr().err


def test_stopped_run_then_the_same_command_resumes(small_data, tmp_path,
                                                   children):
  command = ['-m', 'cifar10.train', '--data_dir', small_data, '--train_dir',
             str(tmp_path), '--max_steps', '100000', '--batch_size', '4',
             '--log_frequency', '1']
  child = children(*command)
  child.wait_for(r': step 3,')
  child.process.send_signal(signal.SIGINT)
  status, output = child.finish()
  assert status == 130
  step = int(_group(r'Stopped by SIGINT at step (\d+); saved .*\. Run the '
                    r'same command again to resume\.', output))
  child = children(*command)  # The same command.
  child.wait_for(r'Resuming from .*model\.ckpt-%d \(global step %d\)'
                 % (step, step))
  child.wait_for(r': step %d,' % (step + 1))
  child.process.send_signal(signal.SIGINT)
  assert child.finish()[0] == 130
  assert latest_step(str(tmp_path)) > step


def test_full_disk_then_free_space_and_run_again(small_data, small_filesystem,
                                                 capsys):
  # A run's first checkpoint, graph and events take 12 MB, each further
  # checkpoint 9 MB: beside the filler there is room for the first only,
  # and without it for the second too.
  filler = os.path.join(small_filesystem, 'filler')
  with open(filler, 'wb') as out:
    out.write(b'\0' * (6 << 20))
  command = ['--data_dir', small_data, '--train_dir', small_filesystem,
             '--max_steps', '2', '--batch_size', '4',
             '--save_checkpoint_steps', '2']
  assert script.run(train.main, command) == 1
  message = capsys.readouterr().err
  assert message.endswith('make room there (or fix the cause) and run '
                          'again to resume from it.\n'), message
  saved = latest_step(small_filesystem)
  os.remove(filler)  # Disk space freed.
  assert script.run(train.main, command) == 0
  assert 'Resuming from %s' % os.path.join(
      small_filesystem, 'model.ckpt-%d' % saved) in capsys.readouterr().out
  assert latest_step(small_filesystem) == 2


# ---------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------

def test_url_refused_then_a_local_path_or_one_served(small_data, tmp_path,
                                                     capsys):
  parse = train.parser().parse_args
  served = _group(r'\(it serves local paths and (.*)\)\. Give a local path, '
                  r'or one of those\.', _flag_refusal(
                      parse, ['--train_dir', 's3://bucket/run'], capsys))
  assert 'ram://' in served.split(', ')
  assert _train(small_data, 'ram://advice/run', 1) == 0  # "one of those".
  assert latest_step('ram://advice/run') == 1
  assert _train(small_data, str(tmp_path / 'run'), 1) == 0  # A local path.
  # An address this TensorFlow serves but cannot reach (here a slip that
  # names no bucket: without network, no GCS address is reachable to check
  # against): "Check the address ..., or give a local path".
  assert 'Check the address and your access to it, or give a local path.' \
      in _flag_refusal(parse, ['--train_dir', 'gs:///run'], capsys)
  assert _train(small_data, str(tmp_path / 'local'), 1) == 0


def test_empty_path_refused_then_a_folder_given(small_data, tmp_path,
                                                capsys):
  # `--train_dir "$RUN"` with RUN unset.
  assert 'an empty path; give a folder (an unset shell variable gives an ' \
      'empty one)' in _flag_refusal(train.parser().parse_args,
                                    ['--train_dir', ''], capsys)
  assert _train(small_data, str(tmp_path / 'run'), 1) == 0  # "give a folder".
  assert latest_step(str(tmp_path / 'run')) == 1


def test_path_not_utf8_refused_then_renamed_or_another(small_data, tmp_path,
                                                       capsys):
  latin = str(tmp_path / os.fsdecode(b'caf\xe9'))  # Latin-1, not UTF-8.
  os.makedirs(latin)
  assert 'Give a path of UTF-8 names: rename that file or folder, or choose ' \
      'another.' in _flag_refusal(train.parser().parse_args,
                                  ['--train_dir', latin], capsys)
  renamed = str(tmp_path / 'cafe')
  os.rename(latin, renamed)  # "rename that file or folder".
  assert _train(small_data, renamed, 1) == 0
  assert latest_step(renamed) == 1
  assert _train(small_data, str(tmp_path / 'other'), 1) == 0  # "or another".
  assert latest_step(str(tmp_path / 'other')) == 1


def test_convert_into_a_url_then_locally_and_copied_there(small_data,
                                                           tmp_path, capsys):
  src = str(tmp_path / 'src')
  _class_folder(src, 4, names=('a', 'b'))
  url = 'ram://advice_converted'
  folder = _group(r'Convert into a local folder, then copy its (\S+)/ to the '
                  r'URL', _flag_refusal(convert_images.parser().parse_args,
                                        [src, url], capsys))
  _converts(src, tmp_path / 'out')
  copied = os.path.join(url, folder)
  tf.io.gfile.makedirs(copied)
  for name in os.listdir(str(tmp_path / 'out' / folder)):
    tf.io.gfile.copy(str(tmp_path / 'out' / folder / name),
                     os.path.join(copied, name))
  # "the other scripts read data there".
  assert _train(url, str(tmp_path / 'run'), 1) == 0
  assert latest_step(str(tmp_path / 'run')) == 1


# ---------------------------------------------------------------------------
# A --train_dir of checkpoints without their index file
# ---------------------------------------------------------------------------

def test_unlisted_checkpoints_then_a_new_train_dir_or_checkpoint_dir(
    small_data, small_run, tmp_path, capsys):
  run = _copy_run(small_run, tmp_path / 'run')
  os.remove(os.path.join(run, paths.INDEX_FILE))
  complaint = _flag_refusal(train.parser().parse_args, ['--train_dir', run],
                            capsys)
  named = _typed(r'Give a new --train_dir; to evaluate, predict with or export '
                 r'them, give them as --checkpoint_dir WORD\.', complaint)
  assert named == run
  assert _train(small_data, str(tmp_path / 'new'), 1) == 0
  assert _eval(small_data, named, tmp_path / 'eval') == 0
  image = str(tmp_path / 'red.png')
  _png(image, 200)
  assert predict.main([image, '--checkpoint_dir', named]) == 0
  assert export.main(['--checkpoint_dir', named, '--export_dir',
                      str(tmp_path / 'model')]) == 0
  assert sorted(os.listdir(run)) == sorted(
      name for name in os.listdir(small_run) if name != paths.INDEX_FILE)


# ---------------------------------------------------------------------------
# The data set's other versions
# ---------------------------------------------------------------------------

@pytest.fixture
def own_cache_root(tmp_path, monkeypatch):
  """Converted copies go under this test's folder, not the system's /tmp."""
  root = str(tmp_path / 'converted')
  monkeypatch.setattr(pickled_batches, 'CACHE_ROOT', root)
  return root


def _data_flags(argv):
  """The shared parser's flags after the data choice (a refusal exits 2)."""
  return flags.base_parser('cifar10.eval', 'test').parse_args(argv)


def _tarball_of(folder, tarball):
  """Writes `tarball`, holding `folder` as its top folder, as published."""
  with tarfile.open(tarball, 'w:gz') as archive:
    archive.add(folder, os.path.basename(folder))


def test_python_tarball_then_the_tar_command_it_prints(tmp_path, capsys,
                                                       own_cache_root):
  source = cifar_formats.write_cifar100_python(tmp_path / 'source', train=20,
                                               test=10)
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  _tarball_of(source, str(data_dir / 'cifar-100-python.tar.gz'))
  command = _group(r'extract it \((tar -xzf .+ -C .+)\) and run again; the '
                   r'scripts then convert it\.', _flag_refusal(
                       _data_flags, ['--data_dir', str(data_dir)], capsys))
  subprocess.run(shlex.split(command), check=True, timeout=DEADLINE_SECS)
  assert _train(str(data_dir), str(tmp_path / 'run'), 1) == 0  # Run again.
  assert 'converted CIFAR-100\'s Python version' in capsys.readouterr().err
  assert latest_step(str(tmp_path / 'run')) == 1


def test_unreadable_version_then_a_readable_one_or_a_new_data_dir(
    tmp_path, capsys, own_cache_root):
  mat = tmp_path / 'mat'
  (mat / 'cifar-10-batches-mat').mkdir(parents=True)
  tarball, python_folder = re.search(
      r"Put CIFAR-10's binary version \((\S+)\) or Python version \((\S+)/\) "
      r'there, or give a new --data_dir to download the binary version\.',
      _flag_refusal(_data_flags, ['--data_dir', str(mat)], capsys)).groups()
  # "Put the binary version there": its tarball (a stand-in, whose MD5 the
  # download is given), extracted on the first run.
  binary = tmp_path / 'binary'
  shutil.copytree(str(mat), str(binary))
  md5 = _tarball(binary / tarball)
  args = _data_flags(['--data_dir', str(binary)])
  _gets_data(args.data_dir, _unused_url(), md5)
  # "or the Python version".
  python = tmp_path / 'python'
  shutil.copytree(str(mat), str(python))
  folder = cifar_formats.write_cifar10_python(python, train_per_file=4,
                                              test=4)
  assert os.path.basename(folder) == python_folder
  assert _data_flags(['--data_dir', str(python)]).data_dir.startswith(
      own_cache_root)
  # "or give a new --data_dir to download the binary version" (from a
  # server on this machine).
  new = str(tmp_path / 'new')
  args = _data_flags(['--data_dir', new])
  served, md5 = _served(tmp_path)
  with _serving(served) as url:
    _gets_data(args.data_dir, url + download.TARBALL_NAME, md5)


def test_coarse_labels_of_cifar10_then_left_out_or_cifar100(small_data,
                                                            tmp_path, capsys):
  both = str(tmp_path / 'both')
  shutil.copytree(small_data, both)
  cifar_formats.write_cifar100_binary(both, train=20, test=10)
  complaint = _flag_refusal(_data_flags, ['--data_dir', both, '--label_set',
                                          'coarse'], capsys)
  assert 'Leave it out, or give --dataset cifar100.' in complaint
  assert _data_flags(['--data_dir', both]).dataset == 'cifar10'  # Left out.
  args = _data_flags(['--data_dir', both, '--label_set', 'coarse',
                      '--dataset', 'cifar100'])
  assert args.data_format == data_sets.CIFAR100_COARSE
  assert _train(both, str(tmp_path / 'run'), 1, '--label_set', 'coarse',
                '--dataset', 'cifar100') == 0
  with open(os.path.join(str(tmp_path / 'run'), classes.RUN_FILE)) as names:
    assert tuple(names.read().split()) == cifar_formats.COARSE_NAMES


def test_cifar100_names_file_missing_then_put_back_from_the_tarball(tmp_path):
  source = cifar_formats.write_cifar100_binary(tmp_path / 'source', train=20,
                                               test=10)
  tarball = str(tmp_path / 'cifar-100-binary.tar.gz')
  _tarball_of(source, tarball)
  data_dir = tmp_path / 'data'
  shutil.copytree(source, str(data_dir / 'cifar-100-binary'))
  os.remove(str(data_dir / 'cifar-100-binary' / 'coarse_label_names.txt'))
  # The scripts look for the names file before they start (the download
  # step names it among the files missing); the model's API reads it alone.
  path, held_by = re.search(
      r"^(\S+) not found: CIFAR-100's coarse labels are named there\. Put it "
      r'back \((\S+) holds it\)\.$', _refusal(
          cifar10_model.data_classes, str(data_dir),
          data_sets.CIFAR100_COARSE)).groups()
  assert held_by == os.path.basename(tarball)
  subprocess.run(['tar', '-xzf', tarball, '-C', str(data_dir),
                  os.path.relpath(path, str(data_dir))], check=True,
                 timeout=DEADLINE_SECS)
  assert cifar10_model.data_classes(
      str(data_dir), data_sets.CIFAR100_COARSE).names == (
          cifar_formats.COARSE_NAMES)


class _RunsCode:
  """Pickles as a call of os.system: loading it would create `marker`."""

  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (os.system, ('touch %s' % self.marker,))


def _load_as_python2(path):
  with open(path, 'rb') as stream:
    return pickle.load(stream, encoding='bytes')


def _with(batch, key, value):
  changed = dict(batch)
  changed[key] = value
  return changed


def _damaged(batch, meta, marker):
  """Each way a file of CIFAR-10's Python version can be damaged:
  {case: (file name, its new content or None to cut it short, what the
  refusal says of it)}."""
  labels = batch[b'labels']
  return {
      'runs code': ('data_batch_2', {b'data': _RunsCode(marker)},
                    'refused to load it'),
      'cut short': ('data_batch_2', None, 'is not a readable pickle'),
      'not a dict': ('data_batch_2', [1, 2], 'holds a list, not the '
                     'dictionary'),
      'no data': ('data_batch_2', {b'labels': labels}, "has no 'data' entry"),
      'data not images': ('data_batch_2', _with(batch, b'data', [1, 2]),
                          "its 'data' is not an array"),
      'labels too few': ('data_batch_2', _with(batch, b'labels', labels[1:]),
                         "its 'labels' are not 4 integers"),
      'label beyond': ('data_batch_2', _with(batch, b'labels',
                                             [10] + labels[1:]),
                       'image 0 has labels 10, but the meta file names 10 '
                       'classes'),
      'names not a list': ('batches.meta', _with(meta, b'label_names',
                                                 b'airplane'),
                           "its 'label_names' is not a list"),
  }


@pytest.mark.parametrize('case', ['runs code', 'cut short', 'not a dict',
                                  'no data', 'data not images',
                                  'labels too few', 'label beyond',
                                  'names not a list'])
def test_damaged_python_batch_then_the_genuine_file_from_the_tarball(
    tmp_path, capsys, own_cache_root, case):
  source = cifar_formats.write_cifar10_python(tmp_path / 'source',
                                              train_per_file=4, test=4)
  tarball = str(tmp_path / 'cifar-10-python.tar.gz')
  _tarball_of(source, tarball)
  data_dir = tmp_path / 'data'
  folder = shutil.copytree(source, str(data_dir / os.path.basename(source)))
  marker = tmp_path / 'ran'
  name, content, fault = _damaged(
      _load_as_python2(os.path.join(source, 'data_batch_2')),
      _load_as_python2(os.path.join(source, 'batches.meta')), marker)[case]
  path = os.path.join(folder, name)
  if content is None:
    with open(path, 'r+b') as stream:
      stream.truncate(300)
  else:
    cifar_formats.python2_pickle(content, path)
  complaint = _flag_refusal(_data_flags, ['--data_dir', str(data_dir)], capsys)
  assert re.search(r'error: %s:? %s.*[Rr]eplace it' % (
      re.escape(path), re.escape(fault)), complaint), complaint
  assert not marker.exists()
  # "Replace it with the genuine file from the data set's tarball".
  subprocess.run(['tar', '-xzf', tarball, '-C', str(data_dir),
                  os.path.relpath(path, str(data_dir))], check=True,
                 timeout=DEADLINE_SECS)
  assert _data_flags(['--data_dir', str(data_dir)]).data_dir.startswith(
      own_cache_root)


def test_python_version_lacking_a_file_then_put_back_or_the_whole(
    tmp_path, capsys, own_cache_root):
  whole = cifar_formats.write_cifar10_python(tmp_path / 'whole',
                                             train_per_file=4, test=4)
  data_dir = tmp_path / 'data'
  folder = shutil.copytree(whole, str(data_dir / os.path.basename(whole)))
  moved = str(tmp_path / 'data_batch_3')
  shutil.move(os.path.join(folder, 'data_batch_3'), moved)
  complaint = _flag_refusal(_data_flags, ['--data_dir', str(data_dir)], capsys)
  assert 'lacks data_batch_3, which the Python version of CIFAR-10 holds. ' \
      'Put it back, or give a --data_dir holding the whole folder.' in \
      complaint
  # "give a --data_dir holding the whole folder".
  assert _data_flags(['--data_dir', str(tmp_path / 'whole')]).data_dir
  shutil.move(moved, folder)  # "Put it back".
  assert _data_flags(['--data_dir', str(data_dir)]).data_dir.startswith(
      own_cache_root)


def test_no_room_for_the_converted_copy_then_room_or_tmpdir(
    tmp_path, small_filesystem, monkeypatch, capsys):
  data_dir = str(tmp_path / 'data')
  cifar_formats.write_cifar10_python(data_dir, train_per_file=8, test=8)
  # TMPDIR on the full file system, as the scripts read it at start.
  monkeypatch.setattr(pickled_batches, 'CACHE_ROOT', os.path.join(
      small_filesystem, 'cifar10_converted'))
  filler = _fill(small_filesystem)
  complaint = _flag_refusal(_data_flags, ['--data_dir', data_dir], capsys)
  assert re.search(r'Make room there \(about \d+ MB\) or set TMPDIR to a '
                   r'folder that has it, and run again\.', complaint), \
      complaint
  # "set TMPDIR to a folder that has it": read when a script starts.
  roomy = tmp_path / 'roomy'
  roomy.mkdir()
  done = subprocess.run(
      [sys.executable, '-m', 'cifar10.train', '--data_dir', data_dir,
       '--train_dir', str(tmp_path / 'run'), '--max_steps', '1',
       '--batch_size', '4'], capture_output=True, text=True,
      env=dict(os.environ, TMPDIR=str(roomy)), timeout=DEADLINE_SECS)
  assert done.returncode == 0, done.stderr[-3000:]
  assert os.listdir(str(roomy)) == ['cifar10_converted']
  os.remove(filler)  # "Make room there".
  assert _data_flags(['--data_dir', data_dir]).data_dir.startswith(
      small_filesystem)


# ---------------------------------------------------------------------------
# A full disk while downloading or extracting
# ---------------------------------------------------------------------------

class _WithoutLength(http.server.SimpleHTTPRequestHandler):
  """Serves files without Content-Length, as some servers do (HTTP/1.0:
  the end of the connection ends the file)."""

  def log_message(self, *args):
    pass

  def send_header(self, keyword, value):
    if keyword.lower() != 'content-length':
      super().send_header(keyword, value)


@pytest.mark.parametrize('length', ['known', 'unknown'])
def test_full_disk_while_downloading_then_room_or_another_disk(
    tmp_path, small_filesystem, length):
  served, md5 = _served(tmp_path)
  handler = {'known': http.server.SimpleHTTPRequestHandler,
             'unknown': _WithoutLength}[length]
  data_dir = os.path.join(small_filesystem, 'data')
  os.makedirs(data_dir)
  filler = _fill(small_filesystem)
  with _serving(served, handler) as url:
    url += download.TARBALL_NAME
    complaint = _refusal(download.maybe_download_and_extract, data_dir, url,
                         md5, io.StringIO())
    assert re.search(
        r'^Could not write %s into %s \(.*\); what was written is removed\. '
        r'(It needs about 1 MB there: make room|Make room) \(or fix the '
        r'cause\) and run again, or give a --data_dir on another disk\.$'
        % (download.TARBALL_NAME, data_dir), complaint), complaint
    assert ('about 1 MB' in complaint) == (length == 'known')
    assert os.listdir(data_dir) == []
    _gets_data(tmp_path / 'other', url, md5)  # "a --data_dir on another disk".
    os.remove(filler)  # "make room".
    _gets_data(data_dir, url, md5)  # "and run again".
